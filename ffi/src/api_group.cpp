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
    for (rast_model *m : g->models) ranks_cache_init(*m, n_blocks, block_size);
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

int32_t rast_group_step(rast_group *g, const rast_batch *batch, const uint64_t *seeds,
                        const rast_sampling *sampling, int32_t *out_tokens, float *out_stats,
                        float *out_logits) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g || !batch || !seeds || !sampling || !out_tokens)
      fail(RAST_E_INVALID_ARGUMENT, "rast_group_step: NULL argument");
    const rast_sampling &s = *sampling;
    if (!(s.temperature >= 0) || !std::isfinite(s.temperature))
      fail(RAST_E_INVALID_ARGUMENT, "temperature must be >= 0");
    if (!(s.top_p > 0 && s.top_p <= 1)) fail(RAST_E_INVALID_ARGUMENT, "top_p must be in (0, 1]");
    if (s.top_k < 0) fail(RAST_E_INVALID_ARGUMENT, "top_k must be >= 0");
    if (s.stats_k < 0 || s.stats_k > g->shared_vocab)
      fail(RAST_E_INVALID_ARGUMENT, "stats_k must be between 0 and the shared vocab (" +
                                        std::to_string(g->shared_vocab) + ")");
    Model &base = g->base->model;
    const int64_t start = now_ns(), ops = ops_counted(), copies = blocking_copies.load();
    const int32_t n = batch->n_seqs;
    const BatchLimits limits = group_limits(g);
    check_batch(limits, batch, RAST_LOGITS_LAST);
    SamplingParams params{s.temperature, s.top_p, s.top_k, s.stats_k, out_stats != nullptr};
    rast_forward_stats cost{};
    std::vector<float> rows;  // [n, 3 + width]: DeviceStep's packed rows
    DeviceStep step;
    int64_t bucket = g->graphs->bucket_for(g, batch);
    if (bucket > 0) {
      try {
        step = g->graphs->step(g, batch, seeds, params, bucket, rows, out_logits);
        int64_t live = 0;  // flash read each sequence's live keys, no more
        for (int32_t i = 0; i < n; i++) live += int64_t(batch->start_pos[i]) + 1;
        for (rast_model *h : g->models) {
          const int64_t bytes = live * ranks_kv_bytes_per_position(*h);
          cost.kv_read_bytes += bytes;
          cost.kv_live_bytes += bytes;
        }
      } catch (const std::exception &) {
        if (g->graphs->bucket_for(g, batch) > 0) throw;
        bucket = 0;  // the capture failed and turned graphs off (rast_group_info): run eagerly
      }
    }
    if (bucket == 0) {
      StepInput in = lay_out_step_input(limits, batch, RAST_LOGITS_LAST);
      std::vector<double> u(n);
      for (int32_t i = 0; i < n; i++)
        u[i] = seeded_uniform(seeds[i], int64_t(batch->start_pos[i]) + batch->seq_lens[i]);
      at::Tensor uniforms = at::from_blob(u.data(), {n}, at::kDouble).to(base.device);
      step = step_rows_to_host(group_device_step(g, in, uniforms, params, &cost), g, uniforms,
                               params, n, rows);
      if (out_logits) copy_out(out_logits, step.result.combined);
    }
    const int64_t width = step.packed.size(1), stats = width - 3;
    for (int32_t i = 0; i < n; i++) {
      const float *row = &rows[i * width];
      out_tokens[i] = static_cast<int32_t>(row[1] != 0 ? row[1] : row[0]);
      if (out_stats) memcpy(out_stats + i * stats, row + 3, sizeof(float) * stats);
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
    cost.ops = ops_counted() - ops;
    cost.blocking_copies = blocking_copies.load() - copies;
    cost.ns = now_ns() - start;
    // With a graph, forwards and sampling are one replay: all of it counts as forward time.
    const int64_t forwarded = bucket > 0 ? now_ns() : step.forwarded_at;
    g->stats = {forwarded - start, now_ns() - forwarded, cost, bucket};
  });
}

int32_t rast_group_configure(rast_group *g, const char *options_json) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_configure: the group handle is NULL");
    g->graphs = std::make_unique<DecodeGraphs>(parse_graph_settings(options_json));
  });
}

int32_t rast_group_info(rast_group *g, char *buf, int64_t cap, int64_t *len) {
  return guarded(g ? &g->error : nullptr, [&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_info: the group handle is NULL");
    write_text("{\"graphs\":" + g->graphs->info_json() + "}", buf, cap, len);
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
