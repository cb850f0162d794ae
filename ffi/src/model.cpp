// The forward pass of Qwen2 / Llama / Qwen3 decoder layers over a padded batch [B, T] whose
// keys and values live in the fixed KV cache. Matches Hugging Face's eager implementation:
// RMSNorm in float32, rotate-half rope, softmax in float32, SiLU-gated MLP.
#include <torch/version.h>

#include <cmath>

#include "model.h"

// torch >= 2.5 has fused attention with grouped KV heads (enable_gqa); older builds use the
// eager path below, which is also HF's reference computation.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
#define RAST_SDPA 1
#endif

namespace rast {
namespace {

using at::indexing::Slice;

// x: [..., H] -> [..., H]; HF computes the variance in float32 and casts back before the weight.
at::Tensor rms_norm(const at::Tensor &x, const at::Tensor &weight, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor linear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b) {
  return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}

// x: [B, T, h, D]; cos, sin: [B, T, 1, D]
at::Tensor apply_rope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

// Attention of one layer; writes this step's keys/values into the cache first.
// allowed: [A, 1, T, L] bool, which cache positions each query sees.
at::Tensor attention(Model &m, size_t layer, const at::Tensor &h, const StepInput &in,
                     const at::Tensor &cos, const at::Tensor &sin, const at::Tensor &allowed) {
  const LayerWeights &L = m.w.layers[layer];
  const int64_t B = h.size(0), T = h.size(1), D = m.cfg.head_dim;
  const int64_t hq = m.heads_local, hkv = m.kv_heads_local;

  at::Tensor qkv = linear(h, L.wqkv, L.bqkv);  // [B, T, (hq + 2 hkv) D]
  at::Tensor q = qkv.narrow(-1, 0, hq * D).view({B, T, hq, D});
  at::Tensor k = qkv.narrow(-1, hq * D, hkv * D).view({B, T, hkv, D});
  at::Tensor v = qkv.narrow(-1, (hq + hkv) * D, hkv * D).view({B, T, hkv, D});
  if (m.cfg.qk_norm) {
    q = rms_norm(q, L.q_norm, m.cfg.rms_eps);
    k = rms_norm(k, L.k_norm, m.cfg.rms_eps);
  }
  q = apply_rope(q, cos, sin);
  k = apply_rope(k, cos, sin);

  // New keys/values of real (not padding) tokens go to cache[slot, :, pos]: [N, hkv, D].
  at::Tensor &kc = m.cache.k[layer], &vc = m.cache.v[layer];
  kc.index_put_({in.valid_slot, Slice(), in.valid_pos}, k.reshape({B * T, hkv, D}).index_select(0, in.valid));
  vc.index_put_({in.valid_slot, Slice(), in.valid_pos}, v.reshape({B * T, hkv, D}).index_select(0, in.valid));
  // keys, values: [A, hkv, L, D], L = in.kv_len: a view of A consecutive cache rows, or the
  // batch's own rows gathered (A = B).
  const int64_t A = in.attn_positions.size(0), Lk = in.kv_len;
  at::Tensor keys = in.attn_lo >= 0 ? kc.narrow(0, in.attn_lo, A).narrow(2, 0, Lk)
                                    : kc.narrow(2, 0, Lk).index_select(0, in.slots);
  at::Tensor values = in.attn_lo >= 0 ? vc.narrow(0, in.attn_lo, A).narrow(2, 0, Lk)
                                      : vc.narrow(2, 0, Lk).index_select(0, in.slots);

#ifdef RAST_SDPA
  // qh: [B, hq, T, D] -> [A, hq, T, D]; query head h reads KV head h / group (HF's repeat_kv).
  at::Tensor qh = q.permute({0, 2, 1, 3});
  if (in.attn_rows.defined()) qh = at::zeros({A, hq, T, D}, qh.options()).index_copy_(0, in.attn_rows, qh);
  at::Tensor ctx = at::scaled_dot_product_attention(qh, keys, values, allowed, 0.0, false,
                                                    std::nullopt, /*enable_gqa=*/true);
  if (in.attn_rows.defined()) ctx = ctx.index_select(0, in.attn_rows);
  ctx = ctx.permute({0, 2, 1, 3}).reshape({B, T, hq * D});  // [B, T, hq * D]
#else
  const int64_t group = hq / hkv;
  // Query heads h*group .. h*group+group-1 share KV head h (HF's repeat_kv order).
  // qg: [B, hkv, group*T, D], then [A, ...] with idle rows zero when scattered.
  at::Tensor qg = q.view({B, T, hkv, group, D}).permute({0, 2, 3, 1, 4}).reshape({B, hkv, group * T, D});
  if (in.attn_rows.defined()) qg = at::zeros({A, hkv, group * T, D}, qg.options()).index_copy_(0, in.attn_rows, qg);
  at::Tensor scores = at::matmul(qg, keys.transpose(-1, -2)) / std::sqrt(static_cast<double>(D));
  // scores: [A, hkv, group, T, L] + mask [A, 1, 1, T, L], softmax in float32 as HF's eager path.
  at::Tensor mask = at::zeros(allowed.sizes(), scores.options().dtype(at::kFloat))
                        .masked_fill(allowed.logical_not(), -INFINITY)
                        .unsqueeze(1);
  scores = scores.view({A, hkv, group, T, Lk}).to(at::kFloat) + mask;
  at::Tensor probs = at::softmax(scores, -1).to(h.scalar_type());
  at::Tensor ctx = at::matmul(probs.view({A, hkv, group * T, Lk}), values);  // [A, hkv, gT, D]
  if (in.attn_rows.defined()) ctx = ctx.index_select(0, in.attn_rows);
  // ctx: [B, hkv, group, T, D] -> [B, T, hq * D]
  ctx = ctx.view({B, hkv, group, T, D}).permute({0, 3, 1, 2, 4}).reshape({B, T, hq * D});
#endif
  at::Tensor out = linear(ctx, L.wo, L.bo);  // this rank's partial sum: [B, T, H]
  m.all_reduce(out);
  return out;
}

at::Tensor mlp(Model &m, size_t layer, const at::Tensor &h) {
  const LayerWeights &L = m.w.layers[layer];
  at::Tensor gate_up = linear(h, L.w_gate_up, L.b_gate_up);  // [B, T, 2 I_local]
  const int64_t I = gate_up.size(-1) / 2;
  at::Tensor act = at::silu(gate_up.narrow(-1, 0, I)) * gate_up.narrow(-1, I, I);
  at::Tensor out = linear(act, L.w_down, L.b_down);  // [B, T, H] partial sum
  m.all_reduce(out);
  return out;
}

// tokens: [B, T] -> [B, T, H]; with a vocab-split embedding each rank adds its own rows.
at::Tensor embed(Model &m, const at::Tensor &tokens) {
  if (m.shard.world == 1) return at::embedding(m.w.embed, tokens);
  const int64_t rows = m.w.embed.size(0), start = m.shard.rank * rows;
  at::Tensor local = tokens - start;
  at::Tensor mine = (local >= 0).logical_and(local < rows);
  at::Tensor x = at::embedding(m.w.embed, local.clamp(0, rows - 1));
  x = x * mine.unsqueeze(-1).to(x.scalar_type());
  m.all_reduce(x);
  return x;
}

}  // namespace

at::Tensor model_forward(Model &m, const StepInput &in) {
  const int64_t B = in.tokens.size(0), T = in.tokens.size(1);
  at::Tensor x = embed(m, in.tokens);  // [B, T, H]

  // cos, sin: [B, T, 1, D] gathered at each token's position.
  at::Tensor cos = m.cache.rope_cos.index({in.positions}).unsqueeze(2).to(m.dtype);
  at::Tensor sin = m.cache.rope_sin.index({in.positions}).unsqueeze(2).to(m.dtype);
  // A query at position p sees cache positions 0..p of its own slot: allowed [A, 1, T, L].
  at::Tensor key_pos = at::arange(in.kv_len, in.attn_positions.options());
  at::Tensor allowed = (key_pos.view({1, 1, -1}) <= in.attn_positions.unsqueeze(-1)).unsqueeze(1);

  for (size_t l = 0; l < m.w.layers.size(); l++) {
    const LayerWeights &L = m.w.layers[l];
    x = x + attention(m, l, rms_norm(x, L.ln1, m.cfg.rms_eps), in, cos, sin, allowed);
    x = x + mlp(m, l, rms_norm(x, L.ln2, m.cfg.rms_eps));
  }
  // Only the wanted rows go through the final norm and lm_head: [R, H] -> [R, V].
  at::Tensor h = x.reshape({B * T, x.size(-1)}).index_select(0, in.rows);
  h = rms_norm(h, m.w.norm, m.cfg.rms_eps);
  at::Tensor logits = at::linear(h, m.w.lm_head).to(at::kFloat);  // [R, V_local]
  if (m.shard.world > 1) logits = m.all_gather(logits, 1);
  return logits.narrow(1, 0, m.cfg.vocab);
}

}  // namespace rast
