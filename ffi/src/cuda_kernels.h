// The shim's own CUDA kernels for a decoder layer's small ops (cuda_kernels.cu): residual add +
// RMSNorm, rope + KV write, SiLU·mul, each one launch where eager ATen runs 5 to 15 kernels. They
// serve bfloat16 / float16 models on a GPU in builds made with nvcc (RAST_CUDA_KERNELS); other
// builds, float32 models and rast_model_load's "fusedKernels": false take the eager ATen path.
// Qwen3's per-head q/k norm keeps the eager rope.
#pragma once

#include <ATen/ATen.h>

namespace rast {

struct Model;
struct StepInput;

namespace gpu {

// Whether the kernels serve this model.
bool fused(const Model &m);

// x: [R, H], residual: [R, H] or undefined. x += residual (rounded, in place); returns
// rms_norm(x) * w as HF computes it.
at::Tensor add_rms_norm(at::Tensor &x, const at::Tensor &residual, const at::Tensor &w, double eps);

// qkv: [N, (hq + 2 hkv) D]. Rotates q in place and writes rotated k and v into rows
// in.write_rows of kc, vc ([rows, hkv, D]).
void rope_and_write(at::Tensor &qkv, const StepInput &in, const at::Tensor &inv_freq, int64_t hq,
                    int64_t hkv, at::Tensor &kc, at::Tensor &vc);

// gate_up: [N, 2 I] -> [N, I]; silu(gate) * up.
at::Tensor silu_mul(const at::Tensor &gate_up);

}  // namespace gpu
}  // namespace rast
