// The plain C interface between cuda_kernels.cpp (g++, ATen) and cuda_kernels.cu (nvcc, no
// ATen): one call description, one launcher. Pointers are device memory of the model dtype.
#pragma once

#include <stdint.h>

#define RAST_KERNEL_ADD_RMS_NORM 1 /* a: x [rows, cols] (+= b when b), c: weight, out: normed */
#define RAST_KERNEL_ROPE_WRITE 2   /* a: qkv [rows, (hq + 2 hkv) cols], out: kc, out2: vc */
#define RAST_KERNEL_SILU_MUL 3     /* a: gate_up [rows, 2 cols], out: [rows, cols] */

typedef struct rast_kernel_call {
  int32_t op;
  int32_t bf16;  /* 1: bfloat16, 0: float16 */
  int64_t rows, cols;
  void *a;
  const void *b, *c;
  void *out, *out2;
  float eps;
  int64_t hq, hkv;               /* rope: heads of this rank; cols is the head dim */
  const int64_t *positions;      /* rope: [rows] */
  const int64_t *write_rows;     /* rope: [rows] cache rows */
  const float *inv_freq;         /* rope: [cols / 2] */
} rast_kernel_call;

#ifdef __cplusplus
extern "C" {
#endif
/* Launches the call on the stream (a cudaStream_t); returns 0 or the cudaError_t of the launch
 * (-1: an unknown op). */
int rast_kernel_launch(const rast_kernel_call *call, void *stream);
#ifdef __cplusplus
}
#endif
