// The C ABI of the RAST group: a base model plus (positive, negative, weight) pairs stepped
// together over the caller's block tables (every model holds a pool of the same shape).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "group.h"

using namespace rast;

extern "C" {

int32_t rast_group_init(rast_model *base, rast_model *const *pos, rast_model *const *neg,
                        const float *weights, int32_t n_pairs, rast_group **out) {
  return guarded(nullptr, [&] {
    if (!base || !out || n_pairs < 0 || (n_pairs > 0 && (!pos || !neg || !weights)))
      fail(RAST_E_INVALID_ARGUMENT, "rast_group_init needs a base model and n_pairs >= 0 pairs");
    *out = nullptr;
    loaded_model(base, "rast_group_init");
    auto g = std::make_unique<rast_group>();
    g->graphs = std::make_unique<DecodeGraphs>(GraphSettings{});  // off until configured
    g->base = base;
    g->models.push_back(base);
    g->shared_vocab = base->model.cfg.vocab;
    for (int32_t i = 0; i < n_pairs; i++) {
      if (!pos[i] || !neg[i]) fail(RAST_E_INVALID_ARGUMENT, "Pair " + std::to_string(i) + " has a NULL model");
      loaded_model(pos[i], "rast_group_init");
      loaded_model(neg[i], "rast_group_init");
      if (!std::isfinite(weights[i]))
        fail(RAST_E_INVALID_ARGUMENT, "Pair " + std::to_string(i) + " has a weight that is not finite");
      g->pos.push_back(pos[i]);
      g->neg.push_back(neg[i]);
      g->weights.push_back(weights[i]);
      for (rast_model *m : {pos[i], neg[i]})
        if (std::find(g->models.begin(), g->models.end(), m) == g->models.end())
          g->models.push_back(m);
      g->shared_vocab = std::min({g->shared_vocab, pos[i]->model.cfg.vocab, neg[i]->model.cfg.vocab});
    }
    *out = g.release();
  });
}

int32_t rast_group_free(rast_group *g) {
  delete g;
  return RAST_OK;
}

const char *rast_group_error(const rast_group *g) { return g ? g->error.c_str() : ""; }

int32_t rast_group_cache_init(rast_group *g, int32_t n_blocks, int32_t block_size) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_cache_init: the group handle is NULL");
    if (g->pipeline.pending() > 0)
      fail(RAST_E_INVALID_ARGUMENT, "Launched steps are still waiting; rast_group_step_wait for "
                                    "them before setting up the cache");
    for (rast_model *m : g->models) ranks_cache_init(*m, n_blocks, block_size);
    g->pipeline.reset();  // the rows a next launch could be fed from are of the old run
  });
}

int32_t rast_group_cache_copy_blocks(rast_group *g, const int32_t *src, const int32_t *dst,
                                     int32_t n) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_cache_copy_blocks: the group handle is NULL");
    for (rast_model *m : g->models) ranks_cache_copy_blocks(*m, src, dst, n);
  });
}

int64_t rast_group_kv_bytes_per_position(rast_group *g) {
  if (!g) return 0;
  int64_t total = 0;
  for (rast_model *m : g->models) total += ranks_kv_bytes_per_position(*m);
  return total;
}

int32_t rast_group_vocab(rast_group *g, int32_t *shared_vocab, int32_t *base_vocab) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g || !shared_vocab || !base_vocab) fail(RAST_E_INVALID_ARGUMENT, "rast_group_vocab: NULL argument");
    *shared_vocab = static_cast<int32_t>(g->shared_vocab);
    *base_vocab = static_cast<int32_t>(g->base->model.cfg.vocab);
  });
}

int32_t rast_group_prefill(rast_group *g, const rast_batch *batch) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_prefill: the group handle is NULL");
    StepInput in = make_step_input(group_limits(g), batch, RAST_LOGITS_NONE);
    for (rast_model *h : g->models) ranks_forward(*h, in);
  });
}

int32_t rast_sampling_default(rast_sampling *out) {
  return guarded(nullptr, [&] {
    if (!out) fail(RAST_E_INVALID_ARGUMENT, "rast_sampling_default: out is NULL");
    *out = rast_sampling{1.0f, 1.0f, 0, 8};
  });
}

namespace {

// rast_sampling checked, as the step's SamplingParams.
SamplingParams sampling_params(const rast_group *g, const rast_sampling *sampling, bool stats) {
  const rast_sampling &s = *sampling;
  if (!(s.temperature >= 0) || !std::isfinite(s.temperature))
    fail(RAST_E_INVALID_ARGUMENT, "temperature must be >= 0");
  if (!(s.top_p > 0 && s.top_p <= 1)) fail(RAST_E_INVALID_ARGUMENT, "top_p must be in (0, 1]");
  if (s.top_k < 0) fail(RAST_E_INVALID_ARGUMENT, "top_k must be >= 0");
  if (s.stats_k < 0 || s.stats_k > g->shared_vocab)
    fail(RAST_E_INVALID_ARGUMENT, "stats_k must be between 0 and the shared vocab (" +
                                      std::to_string(g->shared_vocab) + ")");
  return SamplingParams{s.temperature, s.top_p, s.top_k, s.stats_k, stats};
}

}  // namespace

int32_t rast_group_step(rast_group *g, const rast_batch *batch, const uint64_t *seeds,
                        const rast_sampling *sampling, int32_t *out_tokens, float *out_stats,
                        float *out_logits) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g || !batch || !seeds || !sampling || !out_tokens)
      fail(RAST_E_INVALID_ARGUMENT, "rast_group_step: NULL argument");
    if (g->pipeline.pending() > 0)
      fail(RAST_E_INVALID_ARGUMENT, "Launched steps are still waiting; rast_group_step_wait for "
                                    "them first");
    g->pipeline.launch(g, batch, nullptr, seeds, sampling_params(g, sampling, out_stats != nullptr));
    int64_t n = 0;
    DeviceStep step = g->pipeline.wait(g, out_tokens, out_stats, &n);
    if (out_logits) {
      copy_out(out_logits, step.result.combined.narrow(0, 0, n));
      g->stats.models.blocking_copies++;
    }
    // The debugger's rows (a graph's outputs hold padding rows past n).
    g->last = step.result;
    g->last.combined = step.result.combined.narrow(0, 0, n);
    g->last_base = step.base.narrow(0, 0, n);
    g->last_pos.clear();
    g->last_neg.clear();
    for (size_t i = 0; i < step.pos.size(); i++) {
      g->last_pos.push_back(step.pos[i].narrow(0, 0, n));
      g->last_neg.push_back(step.neg[i].narrow(0, 0, n));
    }
  });
}

int32_t rast_group_step_launch(rast_group *g, const rast_batch *batch, const int32_t *feed,
                               const uint64_t *seeds, const rast_sampling *sampling,
                               int32_t want_stats) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g || !batch || !seeds || !sampling)
      fail(RAST_E_INVALID_ARGUMENT, "rast_group_step_launch: NULL argument");
    g->pipeline.launch(g, batch, feed, seeds, sampling_params(g, sampling, want_stats != 0));
  });
}

int32_t rast_group_step_wait(rast_group *g, int32_t *out_tokens, float *out_stats) {
  // The common case needs no libtorch work, so it runs here, beside a launch the compute thread
  // may be running; the rest (errors, resampling, a rerun) goes to the compute thread.
  if (g && g->pipeline.try_wait(g, out_tokens, out_stats)) return RAST_OK;
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_step_wait: the group handle is NULL");
    g->pipeline.wait(g, out_tokens, out_stats, nullptr);
  });
}

int32_t rast_group_configure(rast_group *g, const char *options_json) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_configure: the group handle is NULL");
    if (g->pipeline.pending() > 0)
      fail(RAST_E_INVALID_ARGUMENT, "Launched steps are still waiting; rast_group_step_wait for "
                                    "them before configuring the group");
    g->graphs = std::make_unique<DecodeGraphs>(parse_graph_settings(options_json));
  });
}

int32_t rast_group_info(rast_group *g, char *buf, int64_t cap, int64_t *len) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_info: the group handle is NULL");
    write_text("{\"graphs\":" + g->graphs->info_json() + ",\"steps\":" +
                   g->pipeline.info_json() + "}",
               buf, cap, len);
  });
}

int32_t rast_group_last_logits(rast_group *g, int32_t which, int32_t row, float *out,
                               int64_t cap, int64_t *len) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g || !out) fail(RAST_E_INVALID_ARGUMENT, "rast_group_last_logits: NULL argument");
    if (!g->last_base.defined()) fail(RAST_E_INVALID_ARGUMENT, "No step has run yet");
    at::Tensor src;
    size_t pair = which >= 2 ? static_cast<size_t>((which - 2) / 2) : 0;
    if (which == 0) src = g->last_base;
    else if (which == 1) src = g->last.combined;
    else if (which >= 2 && pair < g->pos.size()) src = (which % 2 == 0 ? g->last_pos : g->last_neg)[pair];
    else fail(RAST_E_INVALID_ARGUMENT, "which=" + std::to_string(which) + " names no model of the group");
    if (row < 0 || row >= src.size(0)) fail(RAST_E_INVALID_ARGUMENT, "row " + std::to_string(row) + " is out of range");
    at::Tensor r = src[row].to(at::kCPU, at::kFloat).contiguous();
    if (len) *len = r.numel();
    if (cap < r.numel()) fail(RAST_E_INVALID_ARGUMENT, "out holds " + std::to_string(cap) + " floats, needs " + std::to_string(r.numel()));
    memcpy(out, r.data_ptr<float>(), sizeof(float) * r.numel());
  });
}

int32_t rast_group_last_stats(rast_group *g, rast_step_stats *out) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g || !out) fail(RAST_E_INVALID_ARGUMENT, "rast_group_last_stats: NULL argument");
    *out = g->stats;
  });
}

}  // extern "C"
