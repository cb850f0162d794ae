// Tensor side of the shim's CUDA kernels (cuda_kernels.h): checks shapes, takes the current
// stream, hands raw pointers to the launcher in cuda_kernels.cu. Without nvcc this file only
// says the kernels are absent.
#include "cuda_kernels.h"

#include "error.h"
#include "model.h"

#ifdef RAST_CUDA_KERNELS
#include <ATen/cuda/CUDAContext.h>
#include <cuda_runtime_api.h>

#include "cuda_kernels_launch.h"
#endif

namespace rast {
namespace gpu {

#ifdef RAST_CUDA_KERNELS
namespace {

void launch(rast_kernel_call &call, const at::Tensor &like) {
  call.bf16 = like.scalar_type() == at::kBFloat16;
  const int code = rast_kernel_launch(&call, at::cuda::getCurrentCUDAStream().stream());
  if (code != 0)
    fail(RAST_E_BACKEND, std::string("A CUDA kernel of the shim failed to launch: ") +
                             (code > 0 ? cudaGetErrorString(static_cast<cudaError_t>(code))
                                       : "unknown kernel"));
}

}  // namespace

bool fused(const Model &m) {
  return m.fused_kernels && m.device.is_cuda() &&
         (m.dtype == at::kBFloat16 || m.dtype == at::kHalf);
}

at::Tensor add_rms_norm(at::Tensor &x, const at::Tensor &residual, const at::Tensor &w, double eps) {
  x = x.contiguous();
  at::Tensor out = at::empty_like(x);
  rast_kernel_call call{};
  call.op = RAST_KERNEL_ADD_RMS_NORM;
  call.rows = x.size(0);
  call.cols = x.size(1);
  call.a = x.data_ptr();
  at::Tensor r = residual.defined() ? residual.contiguous() : residual;
  call.b = r.defined() ? r.data_ptr() : nullptr;
  call.c = w.data_ptr();
  call.out = out.data_ptr();
  call.eps = static_cast<float>(eps);
  launch(call, x);
  return out;
}

void rope_and_write(at::Tensor &qkv, const StepInput &in, const at::Tensor &inv_freq, int64_t hq,
                    int64_t hkv, at::Tensor &kc, at::Tensor &vc) {
  rast_kernel_call call{};
  call.op = RAST_KERNEL_ROPE_WRITE;
  call.rows = qkv.size(0);
  call.cols = kc.size(2);  // D
  call.a = qkv.data_ptr();
  call.out = kc.data_ptr();
  call.out2 = vc.data_ptr();
  call.hq = hq;
  call.hkv = hkv;
  call.positions = in.positions.data_ptr<int64_t>();
  call.write_rows = in.write_rows.data_ptr<int64_t>();
  call.inv_freq = inv_freq.data_ptr<float>();
  launch(call, qkv);
}

at::Tensor silu_mul(const at::Tensor &gate_up) {
  const int64_t N = gate_up.size(0), I = gate_up.size(1) / 2;
  at::Tensor in = gate_up.contiguous();
  at::Tensor out = at::empty({N, I}, in.options());
  rast_kernel_call call{};
  call.op = RAST_KERNEL_SILU_MUL;
  call.rows = N;
  call.cols = I;
  call.a = in.data_ptr();
  call.out = out.data_ptr();
  launch(call, in);
  return out;
}

#else

bool fused(const Model &) { return false; }

at::Tensor add_rms_norm(at::Tensor &, const at::Tensor &, const at::Tensor &, double) {
  fail(RAST_E_UNSUPPORTED, "This build of the shim has no CUDA kernels");
}

void rope_and_write(at::Tensor &, const StepInput &, const at::Tensor &, int64_t, int64_t,
                    at::Tensor &, at::Tensor &) {
  fail(RAST_E_UNSUPPORTED, "This build of the shim has no CUDA kernels");
}

at::Tensor silu_mul(const at::Tensor &) {
  fail(RAST_E_UNSUPPORTED, "This build of the shim has no CUDA kernels");
}

#endif

}  // namespace gpu
}  // namespace rast
