// RAST, one decoding step for a batch, on the device that holds the logits:
//   z = z_base[:V] + Σ_i w_i (z_pos_i[:V] − z_neg_i[:V]),   ids V.. of the base vocab → −inf
// then temperature, top-k, top-p (vLLM's convention, never dropping the top token; no sort of
// the vocab in the usual case) and inverse-CDF sampling with one seeded uniform per row.
#include "rast_step.h"

#include <cmath>
#include <limits>

namespace rast {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Entropy of softmax rows given log-probs: [B, V] -> [B]. 0·log 0 counts as 0.
at::Tensor entropy(const at::Tensor &logp) {
  at::Tensor p = logp.exp();
  return -(p * logp.masked_fill(p == 0, 0)).sum(-1);
}

// Inverse-CDF sampling over tokens in descending probability: desc [B, K] probabilities and
// ids [B, K] their token ids. vLLM's top-p keeps token j iff the mass strictly above it is < p
// (so the top token always stays); u walks from the top token down, so it picks the same token
// however the tail is cut.
at::Tensor sample_descending(at::Tensor desc, const at::Tensor &ids, const at::Tensor &uniforms,
                             float top_p) {
  at::Tensor cdf = desc.cumsum(-1);  // [B, K]
  desc = desc.masked_fill((cdf - desc) >= top_p, 0);
  cdf = desc.cumsum(-1);
  const int64_t K = desc.size(1);
  at::Tensor target = uniforms.to(cdf.options()).unsqueeze(1) * cdf.narrow(1, K - 1, 1);
  at::Tensor idx = (cdf <= target).sum(-1, /*keepdim=*/true);  // [B, 1]
  // Never land on a zero-probability entry (rounding at the edge): step back to the last kept.
  idx = at::minimum(idx, (desc > 0).sum(-1, true) - 1);
  return ids.gather(1, idx).squeeze(1);
}

// Top-p without sorting the vocab: the nucleus almost always lies within the top NUCLEUS_K
// tokens, and it does exactly when their mass reaches p (every later token then has at least p
// above it). Those come sorted from topk, and `covered` says per row whether the mass reached p;
// the caller reruns with full_sort when a row's nucleus is wider, which sorts the whole vocab.
// The same probabilities and the same cumulative sums either way, so both paths pick the same
// token for the same u. No host synchronisation: a CUDA graph captures the first path.
constexpr int64_t NUCLEUS_K = 1024;

at::Tensor sample_nucleus(const at::Tensor &probs, const at::Tensor &uniforms, float top_p,
                          bool full_sort, at::Tensor *covered) {
  const int64_t V = probs.size(1);
  if (V > NUCLEUS_K && !full_sort) {
    auto [top, ids] = probs.topk(NUCLEUS_K, -1, /*largest=*/true, /*sorted=*/true);
    at::Tensor mass = top.cumsum(-1).narrow(1, NUCLEUS_K - 1, 1);  // [B, 1]
    *covered = (mass >= top_p).squeeze(1);
    return sample_descending(top, ids, uniforms, top_p);
  }
  auto [sorted, order] = probs.sort(-1, /*descending=*/true);
  return sample_descending(sorted, order, uniforms, top_p);
}

// No nucleus (top-p 1): the inverse CDF in id order needs no ordering at all.
at::Tensor sample_all(const at::Tensor &probs, const at::Tensor &uniforms) {
  const int64_t V = probs.size(1);
  at::Tensor cdf = probs.cumsum(-1);  // [B, V]
  at::Tensor target = uniforms.to(cdf.options()).unsqueeze(1) * cdf.narrow(1, V - 1, 1);
  at::Tensor idx = (cdf <= target).sum(-1, /*keepdim=*/true);  // the first id whose cdf passes u
  // Rounding can put u at the very end: take the last id with any probability.
  at::Tensor ids = at::arange(V, idx.options());
  at::Tensor last = ((probs > 0).to(at::kLong) * ids).amax(-1, /*keepdim=*/true);
  return at::minimum(idx, last).squeeze(1);
}

}  // namespace

int64_t stats_width(int32_t stats_k) { return 7 + 4 * static_cast<int64_t>(stats_k); }

double seeded_uniform(uint64_t seed, int64_t position) {
  uint64_t bits = splitmix64(seed ^ splitmix64(static_cast<uint64_t>(position) + 0x5851F42D4C957F2Dull));
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);  // 53 bits
}

StepResult rast_step(const at::Tensor &base, const std::vector<at::Tensor> &pos,
                     const std::vector<at::Tensor> &neg, const std::vector<float> &weights,
                     const at::Tensor &uniforms, const SamplingParams &params) {
  const int64_t B = base.size(0), V_base = base.size(1);
  int64_t V = V_base;  // the vocab every model shares
  for (size_t i = 0; i < pos.size(); i++) V = std::min({V, pos[i].size(1), neg[i].size(1)});

  // delta: [B, V], the weighted steering signal; combined: [B, V_base] with a −inf tail.
  at::Tensor delta = at::zeros({B, V}, base.options());
  for (size_t i = 0; i < pos.size(); i++)
    delta.add_(pos[i].narrow(1, 0, V) - neg[i].narrow(1, 0, V), weights[i]);
  at::Tensor combined = at::full({B, V_base}, -std::numeric_limits<float>::infinity(), base.options());
  combined.narrow(1, 0, V).copy_(base.narrow(1, 0, V) + delta);

  // Distributions after temperature (T = 0 is reported as T = 1): [B, V_base].
  const bool greedy = params.temperature <= 0;
  const double T = greedy ? 1.0 : params.temperature;

  at::Tensor tokens, covered;  // [B]
  if (greedy) {
    tokens = combined.argmax(-1);
  } else {
    at::Tensor logits = combined / T;
    if (params.top_k > 0 && params.top_k < V_base) {
      at::Tensor kth = std::get<0>(logits.topk(params.top_k, -1)).narrow(1, params.top_k - 1, 1);
      logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
    }
    at::Tensor probs = at::softmax(logits, -1);  // [B, V_base]
    tokens = params.top_p < 1.0f
                 ? sample_nucleus(probs, uniforms, params.top_p, params.full_sort, &covered)
                 : sample_all(probs, uniforms);
  }

  if (!params.want_stats) return {tokens, at::Tensor(), combined, covered};
  at::Tensor base_logp = at::log_softmax(base / T, -1);
  at::Tensor comb_logp = at::log_softmax(combined / T, -1);
  // Statistics row: [base_lp, comb_lp, delta, H_base, H_comb, KL, base argmax, boosted ids,
  //                  boosted deltas, suppressed ids, suppressed deltas]
  const int64_t K = params.stats_k;  // the caller keeps K <= V
  at::Tensor chosen = tokens.unsqueeze(1);  // [B, 1]
  at::Tensor chosen_delta = delta.gather(1, chosen.clamp_max(V - 1)) *
                            (chosen < V).to(delta.scalar_type());
  at::Tensor comb_p = comb_logp.exp();
  at::Tensor kl = (comb_p * (comb_logp - base_logp)).masked_fill(comb_p == 0, 0).sum(-1, true);
  auto [up, up_ids] = delta.topk(K, -1, /*largest=*/true);
  auto [down, down_ids] = delta.topk(K, -1, /*largest=*/false);
  at::Tensor stats = at::cat({base_logp.gather(1, chosen), comb_logp.gather(1, chosen), chosen_delta,
                              entropy(base_logp).unsqueeze(1), entropy(comb_logp).unsqueeze(1), kl,
                              base.narrow(1, 0, V).argmax(-1, true).to(at::kFloat),
                              up_ids.to(at::kFloat), up, down_ids.to(at::kFloat), down},
                             1);
  return {tokens, stats, combined, covered};
}

}  // namespace rast
