// The forward pass of Qwen2 / Llama / Qwen3 decoder layers over a packed batch of N tokens
// (no padding) whose keys and values live in the paged KV pool. Matches Hugging Face's eager
// implementation: RMSNorm in float32, rotate-half rope, softmax in float32, SiLU-gated MLP.
#include <torch/version.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "cpu_kernels.h"
#include "cuda_kernels.h"
#include "model.h"

// torch >= 2.5 has fused attention with grouped KV heads (enable_gqa); older builds use the
// eager path below, which is also HF's reference computation.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
#define RAST_SDPA 1
#endif

namespace rast {
namespace {

// scatter_reduce's "amax" (the packed softmax's segment maximum) warns once per process that it
// is in beta; its first use runs under a handler that drops that warning.
struct DropWarnings : c10::WarningHandler {
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning &) override {}
  using Guard = c10::WarningUtils::WarningHandlerGuard;
#else
  void process(const c10::SourceLocation &, const std::string &, const bool) override {}
  using Guard = c10::Warning::WarningHandlerGuard;
#endif
};

void consume_beta_warning() {
  static std::once_flag once;
  std::call_once(once, [] {
    DropWarnings drop;
    DropWarnings::Guard guard(&drop);
    at::zeros({1}).scatter_reduce(0, at::zeros({1}, at::kLong), at::zeros({1}), "amax", true);
  });
}

// x: [..., H] -> [..., H]; HF computes the variance in float32 and casts back before the weight.
at::Tensor eager_rms_norm(const at::Tensor &x, const at::Tensor &weight, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor rms_norm(const Model &m, const at::Tensor &x, const at::Tensor &weight) {
  if (cpu::fused(m)) return cpu::rms_norm(x, weight, m.cfg.rms_eps);
  return eager_rms_norm(x, weight, m.cfg.rms_eps);
}

// The residual stream: x += pending (the last sublayer's output, when there is one), then the
// next sublayer's input rms_norm(x). One kernel on a GPU.
at::Tensor add_norm(const Model &m, at::Tensor &x, const at::Tensor &pending, const at::Tensor &weight) {
  if (gpu::fused(m)) return gpu::add_rms_norm(x, pending, weight, m.cfg.rms_eps);
  if (pending.defined()) x = x + pending;
  return rms_norm(m, x, weight);
}

// Whether rope + KV write is one kernel (Qwen3's q/k norm keeps the eager path on a GPU).
bool fused_rope(const Model &m) { return cpu::fused(m) || (gpu::fused(m) && !m.cfg.qk_norm); }


// x: [N, in] -> [N, out]. One row is a matrix-vector product (BLAS packs the whole weight for a
// one-row GEMM); in deterministic mode every row is, so a row's result never depends on N.
at::Tensor linear(const Model &m, const at::Tensor &x, const at::Tensor &w, const at::Tensor &b) {
  const int64_t N = x.size(0);
  // Up to cpu::row_product_max() rows, float32 products on the CPU are the shim's row kernel (one
  // pass over the weight for all rows); more go to BLAS's GEMM, which reuses weight blocks.
  if (cpu::fused(m) && (N <= cpu::row_product_max() || m.deterministic) && w.is_contiguous())
    return cpu::linear_rows(x, w, b);
  if (N == 1 || m.deterministic) {
    std::vector<at::Tensor> rows;
    rows.reserve(N);
    for (int64_t i = 0; i < N; i++) rows.push_back(at::mv(w, x[i]));
    at::Tensor y = N == 1 ? rows[0].unsqueeze(0) : at::stack(rows);
    return b.defined() ? y + b : y;
  }
  return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}

// x: [N, h, D]; cos, sin: [N, 1, D]
at::Tensor apply_rope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

// Packed attention: every query against exactly its own live keys, softmax per query segment.
// q: [N, hq, D]; returns [N, hq * D]. Reads each listed cache row once.
at::Tensor packed_attention(const Model &m, const at::Tensor &q, const at::Tensor &kc,
                            const at::Tensor &vc, const StepInput &in) {
  const int64_t N = q.size(0), hq = q.size(1), D = q.size(2), hkv = kc.size(1);
  const int64_t group = hq / hkv, S = in.kv_rows.size(0);
  at::Tensor keys = kc.index_select(0, in.kv_rows);    // [S, hkv, D]
  at::Tensor values = vc.index_select(0, in.kv_rows);  // [S, hkv, D]
  // Query head h reads KV head h / group (HF's repeat_kv order): [S, hkv, group, D].
  at::Tensor qk = q.index_select(0, in.kv_query).view({S, hkv, group, D});
  at::Tensor scores = (qk * keys.unsqueeze(2)).sum(-1).view({S, hq}).to(at::kFloat) /
                      std::sqrt(static_cast<double>(D));  // [S, hq]
  at::Tensor seg = in.kv_query.unsqueeze(1).expand({S, hq});
  at::Tensor top = at::full({N, hq}, -std::numeric_limits<float>::infinity(), scores.options())
                       .scatter_reduce(0, seg, scores, "amax", /*include_self=*/true);
  at::Tensor e = (scores - top.index_select(0, in.kv_query)).exp();        // [S, hq]
  at::Tensor total = at::zeros({N, hq}, e.options()).index_add_(0, in.kv_query, e);
  at::Tensor probs = (e / total.index_select(0, in.kv_query)).to(q.scalar_type());
  at::Tensor weighted = probs.view({S, hkv, group, 1}) * values.unsqueeze(2);  // [S, hkv, g, D]
  return at::zeros({N, hkv, group, D}, q.options())
      .index_add_(0, in.kv_query, weighted)
      .view({N, hq * D});
}

// One sequence's queries [T, hq, D] at positions start..start+T-1 against its keys and values
// [L, hkv, D] (L = start + T), causally; returns [T, hq * D]. HF's eager computation.
at::Tensor sequence_attention(const at::Tensor &q, const at::Tensor &keys, const at::Tensor &values,
                              int64_t start) {
  const int64_t T = q.size(0), hq = q.size(1), D = q.size(2), L = keys.size(0), hkv = keys.size(1);
  const int64_t group = hq / hkv;
  // allowed: [T, L], query t sees keys 0..start+t.
  at::Tensor key_pos = at::arange(L, q.options().dtype(at::kLong));
  at::Tensor query_pos = at::arange(start, start + T, key_pos.options());
  at::Tensor allowed = key_pos.unsqueeze(0) <= query_pos.unsqueeze(1);
#ifdef RAST_SDPA
  if (!q.is_cuda()) {  // on CUDA a boolean mask sends SDPA to cuDNN, which replans per length
    at::Tensor ctx = at::scaled_dot_product_attention(
        q.permute({1, 0, 2}).unsqueeze(0), keys.permute({1, 0, 2}).unsqueeze(0),
        values.permute({1, 0, 2}).unsqueeze(0), allowed, 0.0, false, std::nullopt,
        /*enable_gqa=*/true);                                 // [1, hq, T, D]
    return ctx.squeeze(0).permute({1, 0, 2}).reshape({T, hq * D});
  }
#endif
  // qg: [hkv, group*T, D]; query heads h*group .. h*group+group-1 share KV head h.
  at::Tensor qg = q.view({T, hkv, group, D}).permute({1, 2, 0, 3}).reshape({hkv, group * T, D});
  at::Tensor scores = at::matmul(qg, keys.permute({1, 2, 0})) / std::sqrt(static_cast<double>(D));
  at::Tensor mask = at::zeros({T, L}, scores.options().dtype(at::kFloat))
                        .masked_fill(allowed.logical_not(), -INFINITY);
  scores = scores.view({hkv, group, T, L}).to(at::kFloat) + mask;
  at::Tensor probs = at::softmax(scores, -1).to(q.scalar_type());
  at::Tensor ctx = at::matmul(probs.view({hkv, group * T, L}), values.permute({1, 0, 2}));
  return ctx.view({hkv, group, T, D}).permute({2, 0, 1, 3}).reshape({T, hq * D});
}

#if defined(RAST_CUDA) && defined(RAST_FLASH_PAGED)
// Flash attention over the block tables: varlen queries, paged keys (bf16 / fp16 only).
at::Tensor flash_attention(const Model &m, const at::Tensor &q, const at::Tensor &kc,
                           const at::Tensor &vc, const StepInput &in) {
  const int64_t N = q.size(0), hq = q.size(1), D = q.size(2), hkv = kc.size(1);
  // every block of the pool, the graphs' scratch block included (cache.cpp)
  const int64_t bs = m.cache.block_size, blocks = kc.size(0) / bs;
  auto out = at::_flash_attention_forward(
      q, kc.view({blocks, bs, hkv, D}), vc.view({blocks, bs, hkv, D}), in.cu_seqlens_q,
      in.cu_seqlens_k, in.max_q, in.max_k, 0.0, /*is_causal=*/true, /*return_debug_mask=*/false,
      std::nullopt, std::nullopt, std::nullopt, in.seqused_k, std::nullopt, in.block_table);
  return std::get<0>(out).reshape({N, hq * D});
}
#endif

// Attention of one layer; writes this step's keys/values into the pool first. h: [N, H].
at::Tensor attention(Model &m, size_t layer, const at::Tensor &h, const StepInput &in,
                     const at::Tensor &cos, const at::Tensor &sin) {
  const LayerWeights &L = m.w.layers[layer];
  const int64_t N = h.size(0), D = m.cfg.head_dim;
  const int64_t hq = m.heads_local, hkv = m.kv_heads_local;

  at::Tensor qkv = linear(m, h, L.wqkv, L.bqkv);  // [N, (hq + 2 hkv) D]
  at::Tensor &kc = m.cache.k[layer], &vc = m.cache.v[layer];  // [blocks * bs, hkv, D]
  // one pass: q rotated inside qkv, k rotated and v copied into the pool
  if (cpu::fused(m))
    cpu::rope_and_write(qkv, in, m.inv_freq, hq, hkv, L.q_norm, L.k_norm, m.cfg.rms_eps, kc, vc);
  else if (fused_rope(m))
    gpu::rope_and_write(qkv, in, m.inv_freq, hq, hkv, kc, vc);
  at::Tensor q = qkv.narrow(-1, 0, hq * D).view({N, hq, D});
  if (!fused_rope(m)) {
    at::Tensor k = qkv.narrow(-1, hq * D, hkv * D).view({N, hkv, D});
    at::Tensor v = qkv.narrow(-1, (hq + hkv) * D, hkv * D).view({N, hkv, D});
    if (m.cfg.qk_norm) {
      q = eager_rms_norm(q, L.q_norm, m.cfg.rms_eps);
      k = eager_rms_norm(k, L.k_norm, m.cfg.rms_eps);
    }
    q = apply_rope(q, cos, sin);
    k = apply_rope(k, cos, sin);
    kc.index_copy_(0, in.write_rows, k);
    vc.index_copy_(0, in.write_rows, v);
  }

  at::Tensor ctx;  // [N, hq * D]
#if defined(RAST_CUDA) && defined(RAST_FLASH_PAGED)
  if (m.device.is_cuda() && m.dtype != at::kFloat && !m.deterministic)
    ctx = flash_attention(m, q, kc, vc, in);
#endif
  if (!ctx.defined() && in.packed && cpu::fused(m)) ctx = cpu::packed_attention(qkv, kc, vc, in, hq, hkv);
  if (!ctx.defined() && in.packed) ctx = packed_attention(m, q, kc, vc, in);
  if (!ctx.defined()) {
    std::vector<at::Tensor> parts;
    for (size_t s = 0; s < in.q_start.size(); s++) {
      const at::Tensor &rows = in.seq_kv_rows[s];
      parts.push_back(sequence_attention(q.narrow(0, in.q_start[s], in.q_len[s]),
                                         kc.index_select(0, rows), vc.index_select(0, rows),
                                         in.kv_len[s] - in.q_len[s]));
    }
    ctx = parts.size() == 1 ? parts[0] : at::cat(parts, 0);
  }
  at::Tensor out = linear(m, ctx, L.wo, L.bo);  // this rank's partial sum: [N, H]
  m.all_reduce(out);
  return out;
}

at::Tensor mlp(Model &m, size_t layer, const at::Tensor &h) {
  const LayerWeights &L = m.w.layers[layer];
  at::Tensor gate_up = linear(m, h, L.w_gate_up, L.b_gate_up);  // [N, 2 I_local]
  const int64_t I = gate_up.size(-1) / 2;
  at::Tensor act = cpu::fused(m)   ? cpu::silu_mul(gate_up)
                   : gpu::fused(m) ? gpu::silu_mul(gate_up)
                                   : at::silu(gate_up.narrow(-1, 0, I)) * gate_up.narrow(-1, I, I);
  at::Tensor out = linear(m, act, L.w_down, L.b_down);  // [N, H] partial sum
  m.all_reduce(out);
  return out;
}

// tokens: [N] -> [N, H]; with a vocab-split embedding each rank adds its own rows.
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
  if (in.packed) consume_beta_warning();
  if (!m.inv_freq.defined()) m.inv_freq = rope_inv_freq(m.cfg).to(m.device);
  at::Tensor x = embed(m, in.tokens);  // [N, H]
  // cos, sin: [N, 1, D], HF's cat(freqs, freqs) at each token's position, in float32 (the fused
  // kernels compute their angles themselves).
  at::Tensor cos, sin;
  if (!fused_rope(m)) {
    at::Tensor freqs = at::outer(in.positions.to(at::kFloat), m.inv_freq);  // [N, D/2]
    at::Tensor angles = at::cat({freqs, freqs}, -1).unsqueeze(1);
    cos = angles.cos().to(m.dtype);
    sin = angles.sin().to(m.dtype);
  }

  at::Tensor pending;  // the last sublayer's output, not yet added to x
  for (size_t l = 0; l < m.w.layers.size(); l++) {
    const LayerWeights &L = m.w.layers[l];
    pending = attention(m, l, add_norm(m, x, pending, L.ln1), in, cos, sin);
    pending = mlp(m, l, add_norm(m, x, pending, L.ln2));
  }
  if (pending.defined()) x = x + pending;
  // Only the wanted rows go through the final norm and lm_head: [R, H] -> [R, V].
  at::Tensor h = rms_norm(m, x.index_select(0, in.rows), m.w.norm);
  at::Tensor logits = linear(m, h, m.w.lm_head, at::Tensor()).to(at::kFloat);  // [R, V_local]
  if (m.shard.world > 1) logits = m.all_gather(logits, 1);
  return logits.narrow(1, 0, m.cfg.vocab);
}

}  // namespace rast
