// CUDA kernels for a decoder layer's small ops in bfloat16 / float16, one launch each where eager
// ATen spends 5 to 15 (cuda_kernels.h). Built only by the Makefile's CUDA variant, with nvcc and
// without ATen: the launchers take raw pointers and a stream, cuda_kernels.cpp unwraps tensors.
//
// Rounding follows Hugging Face's eager ops exactly: every ATen op there computes in float32 and
// rounds its output to the model dtype, so each kernel rounds at the same points (round(x) below).
// Built without --use_fast_math, so cosf, sinf and expf are the functions ATen's kernels call.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_kernels_launch.h"

namespace {

__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
template <> __device__ __forceinline__ __half from_float(float x) { return __float2half_rn(x); }

// x as an eager op's output: rounded to T.
template <typename T> __device__ __forceinline__ float round(float x) { return to_float(from_float<T>(x)); }

// Sum over a block (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
__device__ float block_sum(float v) {
  __shared__ float partial[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  __syncthreads();  // partial[] may still be read from a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < warps ? partial[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// One block per row. residual (optional): x += residual first, rounded, written back to x (the
// residual stream); then out = w * round(x * rsqrt(mean(x^2) + eps)), HF's Qwen2RMSNorm.
template <typename T>
__global__ void add_rms_norm_kernel(T *x, const T *residual, const T *w, T *out, int64_t H,
                                    float eps) {
  T *row = x + blockIdx.x * H;
  const T *add = residual ? residual + blockIdx.x * H : nullptr;
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < H; i += blockDim.x) {
    float v = to_float(row[i]);
    if (add) {
      v = round<T>(v + to_float(add[i]));
      row[i] = from_float<T>(v);
    }
    squares += v * v;
  }
  const float inv = rsqrtf(block_sum(squares) / static_cast<float>(H) + eps);
  T *dst = out + blockIdx.x * H;
  for (int64_t i = threadIdx.x; i < H; i += blockDim.x)
    dst[i] = from_float<T>(to_float(w[i]) * round<T>(to_float(row[i]) * inv));
}

// One block per token: rotates its q heads in place inside qkv ([N, (hq + 2 hkv) D]) and writes
// its rotated k heads and its v heads to cache row write_rows[n] of kc, vc ([rows, hkv, D]).
// HF: cos, sin = round(cos(p * inv_freq)), round(sin(...)); x * cos + rotate_half(x) * sin with
// each product rounded, then the sum.
template <typename T>
__global__ void rope_write_kernel(T *qkv, const int64_t *positions, const int64_t *write_rows,
                                  const float *inv_freq, int64_t hq, int64_t hkv, int64_t D,
                                  T *kc, T *vc) {
  const int64_t n = blockIdx.x, half = D / 2;
  T *q = qkv + n * (hq + 2 * hkv) * D, *k = q + hq * D, *v = k + hkv * D;
  T *k_dst = kc + write_rows[n] * hkv * D, *v_dst = vc + write_rows[n] * hkv * D;
  const float p = static_cast<float>(positions[n]);
  // pairs (i, i + half) of every q and k head
  for (int64_t j = threadIdx.x; j < (hq + hkv) * half; j += blockDim.x) {
    const int64_t head = j / half, i = j % half;
    const float angle = p * inv_freq[i];
    const float c = round<T>(cosf(angle)), s = round<T>(sinf(angle));
    T *src = head < hq ? q + head * D : k + (head - hq) * D;
    const float x1 = to_float(src[i]), x2 = to_float(src[i + half]);
    const T lo = from_float<T>(round<T>(x1 * c) + round<T>(-x2 * s));
    const T hi = from_float<T>(round<T>(x2 * c) + round<T>(x1 * s));
    T *dst = head < hq ? src : k_dst + (head - hq) * D;
    dst[i] = lo;
    dst[i + half] = hi;
  }
  for (int64_t j = threadIdx.x; j < hkv * D; j += blockDim.x) v_dst[j] = v[j];
}

// out[n, i] = round(round(silu(gate)) * up), gate_up: [N, 2 I] -> out: [N, I].
template <typename T>
__global__ void silu_mul_kernel(const T *gate_up, T *out, int64_t N, int64_t I) {
  const int64_t total = N * I;
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < total;
       j += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = j / I, i = j % I;
    const float g = to_float(gate_up[n * 2 * I + i]), u = to_float(gate_up[n * 2 * I + I + i]);
    const float silu = round<T>(g / (1.0f + expf(-g)));
    out[j] = from_float<T>(silu * u);
  }
}

int threads_for(int64_t work) {
  int t = 32;
  while (t < 1024 && t < work) t *= 2;
  return t;
}

template <typename T>
int launch_all(const rast_kernel_call &c, cudaStream_t stream) {
  switch (c.op) {
    case RAST_KERNEL_ADD_RMS_NORM:
      add_rms_norm_kernel<T><<<static_cast<unsigned>(c.rows), threads_for(c.cols / 4), 0, stream>>>(
          static_cast<T *>(c.a), static_cast<const T *>(c.b), static_cast<const T *>(c.c),
          static_cast<T *>(c.out), c.cols, c.eps);
      break;
    case RAST_KERNEL_ROPE_WRITE:
      rope_write_kernel<T><<<static_cast<unsigned>(c.rows), threads_for((c.hq + c.hkv) * c.cols / 2),
                             0, stream>>>(
          static_cast<T *>(c.a), c.positions, c.write_rows, c.inv_freq, c.hq, c.hkv, c.cols,
          static_cast<T *>(c.out), static_cast<T *>(c.out2));
      break;
    case RAST_KERNEL_SILU_MUL: {
      const int64_t total = c.rows * c.cols;
      const int64_t blocks = (total + 255) / 256;
      silu_mul_kernel<T><<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), 256, 0, stream>>>(
          static_cast<const T *>(c.a), static_cast<T *>(c.out), c.rows, c.cols);
      break;
    }
    default:
      return -1;
  }
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

extern "C" int rast_kernel_launch(const rast_kernel_call *call, void *stream) {
  if (call->rows == 0) return 0;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  return call->bf16 ? launch_all<__nv_bfloat16>(*call, s) : launch_all<__half>(*call, s);
}
