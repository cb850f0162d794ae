// The C ABI of the RAST group: a base model plus (positive, negative, weight) pairs stepped
// together over shared cache slots.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "api_util.h"
#include "rast_step.h"

struct rast_group {
  rast_model *base = nullptr;
  std::vector<rast_model *> pos, neg;
  std::vector<float> weights;
  int64_t shared_vocab = 0;
  rast::StepResult last;                 // the last step, for rast_group_last_logits
  at::Tensor last_base;                  // [B, V_base]
  std::vector<at::Tensor> last_pos, last_neg;
  int64_t forward_ns = 0, sample_ns = 0;  // timing of the last step
};

using namespace rast;

namespace {

// Every model of the group once, though one may serve several pairs (a shared negative).
std::vector<rast_model *> all_models(rast_group *g) {
  std::vector<rast_model *> models{g->base};
  for (size_t i = 0; i < g->pos.size(); i++)
    for (rast_model *m : {g->pos[i], g->neg[i]})
      if (std::find(models.begin(), models.end(), m) == models.end()) models.push_back(m);
  return models;
}

}  // namespace

extern "C" {

int32_t rast_group_init(rast_model *base, rast_model *const *pos, rast_model *const *neg,
                        const float *weights, int32_t n_pairs, rast_group **out) {
  return guarded([&] {
    if (!base || !out || n_pairs < 0 || (n_pairs > 0 && (!pos || !neg || !weights)))
      fail(RAST_E_INVALID_ARGUMENT, "rast_group_init needs a base model and n_pairs >= 0 pairs");
    *out = nullptr;
    auto g = std::make_unique<rast_group>();
    g->base = base;
    g->shared_vocab = base->model.cfg.vocab;
    for (int32_t i = 0; i < n_pairs; i++) {
      if (!pos[i] || !neg[i]) fail(RAST_E_INVALID_ARGUMENT, "Pair " + std::to_string(i) + " has a NULL model");
      if (!std::isfinite(weights[i]))
        fail(RAST_E_INVALID_ARGUMENT, "Pair " + std::to_string(i) + " has a weight that is not finite");
      g->pos.push_back(pos[i]);
      g->neg.push_back(neg[i]);
      g->weights.push_back(weights[i]);
      g->shared_vocab = std::min({g->shared_vocab, pos[i]->model.cfg.vocab, neg[i]->model.cfg.vocab});
    }
    *out = g.release();
  });
}

int32_t rast_group_free(rast_group *g) {
  delete g;
  return RAST_OK;
}

int32_t rast_group_cache_init(rast_group *g, int32_t n_slots, int32_t max_len) {
  return guarded([&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_cache_init: the group handle is NULL");
    for (rast_model *m : all_models(g)) ranks_cache_init(*m, n_slots, max_len);
  });
}

int32_t rast_group_cache_copy(rast_group *g, int32_t src, int32_t dst, int32_t len) {
  return guarded([&] {
    if (!g) fail(RAST_E_INVALID_ARGUMENT, "rast_group_cache_copy: the group handle is NULL");
    for (rast_model *m : all_models(g)) ranks_cache_copy(*m, src, dst, len);
  });
}

int32_t rast_group_vocab(rast_group *g, int32_t *shared_vocab, int32_t *base_vocab) {
  return guarded([&] {
    if (!g || !shared_vocab || !base_vocab) fail(RAST_E_INVALID_ARGUMENT, "rast_group_vocab: NULL argument");
    *shared_vocab = static_cast<int32_t>(g->shared_vocab);
    *base_vocab = static_cast<int32_t>(g->base->model.cfg.vocab);
  });
}

int32_t rast_group_step(rast_group *g, const int32_t *tokens, const int32_t *seq_lens,
                        const int32_t *slots, const int32_t *start_pos, int32_t n_seqs,
                        const uint64_t *seeds, float temperature, float top_p, int32_t top_k,
                        int32_t stats_k, int32_t *out_tokens, float *out_stats,
                        float *out_logits) {
  return guarded([&] {
    if (!g || !seeds || !out_tokens) fail(RAST_E_INVALID_ARGUMENT, "rast_group_step: NULL argument");
    if (!(temperature >= 0) || !std::isfinite(temperature))
      fail(RAST_E_INVALID_ARGUMENT, "temperature must be >= 0");
    if (!(top_p > 0 && top_p <= 1)) fail(RAST_E_INVALID_ARGUMENT, "top_p must be in (0, 1]");
    if (top_k < 0) fail(RAST_E_INVALID_ARGUMENT, "top_k must be >= 0");
    if (stats_k < 0 || stats_k > g->shared_vocab)
      fail(RAST_E_INVALID_ARGUMENT, "stats_k must be between 0 and the shared vocab (" +
                                        std::to_string(g->shared_vocab) + ")");
    Model &base = g->base->model;
    // Each model runs once per step, even when it serves several pairs: [B, V_m] on the base's
    // device (every rank of a split model runs; rank 0's logits).
    std::map<rast_model *, at::Tensor> logits;
    auto run = [&](rast_model *h) {
      auto it = logits.find(h);
      if (it != logits.end()) return it->second;
      StepInput in = make_step_input(h->model, tokens, seq_lens, slots, start_pos, n_seqs, RAST_LOGITS_LAST);
      return logits[h] = ranks_forward(*h, in).to(base.device);
    };
    const int64_t start = now_ns();
    g->last_base = run(g->base);
    g->last_pos.clear();
    g->last_neg.clear();
    for (size_t i = 0; i < g->pos.size(); i++) {
      g->last_pos.push_back(run(g->pos[i]));
      g->last_neg.push_back(run(g->neg[i]));
    }
    const int64_t forwarded = now_ns();
    std::vector<double> u(n_seqs);
    for (int32_t i = 0; i < n_seqs; i++)
      u[i] = seeded_uniform(seeds[i], int64_t(start_pos[i]) + seq_lens[i]);
    at::Tensor uniforms = at::from_blob(u.data(), {n_seqs}, at::kDouble).to(base.device);
    SamplingParams params{temperature, top_p, top_k, stats_k};
    g->last = rast_step(g->last_base, g->last_pos, g->last_neg, g->weights, uniforms, params);
    at::Tensor ids = g->last.tokens.to(at::kCPU, at::kInt);
    memcpy(out_tokens, ids.data_ptr<int32_t>(), sizeof(int32_t) * n_seqs);
    if (out_stats)
      at::from_blob(out_stats, g->last.stats.sizes(), at::kFloat).copy_(g->last.stats);
    if (out_logits)
      at::from_blob(out_logits, g->last.combined.sizes(), at::kFloat).copy_(g->last.combined);
    g->forward_ns = forwarded - start;
    g->sample_ns = now_ns() - forwarded;
  });
}

int32_t rast_group_last_logits(rast_group *g, int32_t which, int32_t row, float *out,
                               int64_t cap, int64_t *len) {
  return guarded([&] {
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

int32_t rast_group_last_timing(rast_group *g, int64_t *forward_ns, int64_t *sample_ns) {
  return guarded([&] {
    if (!g || !forward_ns || !sample_ns) fail(RAST_E_INVALID_ARGUMENT, "rast_group_last_timing: NULL argument");
    *forward_ns = g->forward_ns;
    *sample_ns = g->sample_ns;
  });
}

}  // extern "C"
