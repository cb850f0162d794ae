// RAST, one decoding step for a batch, on the device that holds the logits:
//   z = z_base[:V] + Σ_i w_i (z_pos_i[:V] − z_neg_i[:V]),   ids V.. of the base vocab → −inf
// then temperature, top-k, top-p (vLLM's convention, never dropping the top token) and
// inverse-CDF sampling with one seeded uniform per row.
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

  at::Tensor tokens;  // [B]
  if (greedy) {
    tokens = combined.argmax(-1);
  } else {
    at::Tensor logits = combined / T;
    if (params.top_k > 0 && params.top_k < V_base) {
      at::Tensor kth = std::get<0>(logits.topk(params.top_k, -1)).narrow(1, params.top_k - 1, 1);
      logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
    }
    // desc: [B, V_base] probabilities sorted descending. vLLM drops the ascending-cumsum head
    // whose mass is ≤ 1 − p; in descending order that keeps token j iff the mass strictly
    // above it is < p (so the top token always stays).
    auto [sorted, order] = logits.sort(-1, /*descending=*/true);
    at::Tensor desc = at::softmax(sorted, -1);
    at::Tensor cdf = desc.cumsum(-1);  // [B, V_base]
    if (params.top_p < 1.0f) {
      at::Tensor dropped = (cdf - desc) >= params.top_p;
      desc = desc.masked_fill(dropped, 0);
      cdf = desc.cumsum(-1);
    }
    // Inverse CDF from the top token down, so u picks the same token however the tail is cut.
    at::Tensor target = uniforms.to(cdf.options()).unsqueeze(1) * cdf.narrow(1, V_base - 1, 1);
    at::Tensor idx = (cdf <= target).sum(-1, /*keepdim=*/true);  // [B, 1]
    // Never land on a zero-probability entry (rounding at the edge): step back to the last kept.
    idx = at::minimum(idx, (desc > 0).sum(-1, true) - 1);
    tokens = order.gather(1, idx).squeeze(1);
  }

  if (!params.want_stats) return {tokens, at::Tensor(), combined};
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
  return {tokens, stats, combined};
}

}  // namespace rast
