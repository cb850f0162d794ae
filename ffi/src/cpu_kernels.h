// Fused float32 CPU kernels for a decoder layer's small ops. Eager ATen spends 5 to 30 operator
// calls on each of RMSNorm, rope + KV write, SiLU·mul and packed attention; every call is a
// dispatch here and would be a kernel launch on a GPU. Each kernel below is one pass over its
// rows, parallel across rows with a fixed reduction order inside a row, so a row's result never
// depends on the batch it is in (--deterministic holds). bfloat16 and float16 keep the eager path:
// Hugging Face rounds after every op there, which a fused kernel (rounding once) would not match.
#pragma once

#include <ATen/ATen.h>

namespace rast {

struct Model;
struct StepInput;

namespace cpu {

// Whether the fused kernels serve this model: float32 on the CPU.
bool fused(const Model &m);

// x: [R, H] -> [R, H]; w * x / sqrt(mean(x^2) + eps), the mean taken in float32 as HF does.
at::Tensor rms_norm(const at::Tensor &x, const at::Tensor &w, double eps);

// qkv: [N, (hq + 2 hkv) D], this step's projections. Rotates q in place (after Qwen3's per-head
// q/k norm when q_norm / k_norm are defined) and writes the rotated k and plain v into the
// pool rows in.write_rows of kc, vc ([rows, hkv, D]).
void rope_and_write(at::Tensor &qkv, const StepInput &in, const at::Tensor &inv_freq,
                    int64_t hq, int64_t hkv, const at::Tensor &q_norm, const at::Tensor &k_norm,
                    double eps, at::Tensor &kc, at::Tensor &vc);

// x: [N, in], w: [out, in], b: [out] or undefined -> [N, out], each row a matrix-vector product
// with a fixed summation order (BLAS would pack the whole weight for a one-row GEMM, and its
// blocking for N rows would make a row's sums depend on N).
at::Tensor linear_rows(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b);
// Most rows linear_rows is sent before BLAS's GEMM does better (8 with AVX2 + FMA, else 4).
int64_t row_product_max();

// gate_up: [N, 2 I] -> [N, I]; silu(gate) * up.
at::Tensor silu_mul(const at::Tensor &gate_up);

// Packed attention: query token k (rows of qkv's q part) against its in.positions[k] + 1 cache
// rows, which in.kv_rows lists query after query. -> [N, hq * D]
at::Tensor packed_attention(const at::Tensor &qkv, const at::Tensor &kc, const at::Tensor &vc,
                            const StepInput &in, int64_t hq, int64_t hkv);

}  // namespace cpu
}  // namespace rast
