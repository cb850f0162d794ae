// A second CUDA stream for the pair models of a group, so the small models' short kernels run
// beside the base's instead of after them. Joined with events both ways, which CUDA graph
// capture records as a fork and a join.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <optional>

#ifdef RAST_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace rast {

struct SideStream {
#ifdef RAST_CUDA
  std::optional<c10::cuda::CUDAStream> stream;  // from the pool of `device`, made on first use
#endif
  int device = -1;
};

// Runs fn with the side stream of `device` current: it starts after the work already issued on
// the current stream, and the current stream's later work waits for it. Without CUDA (or on a CPU
// device) it just runs fn.
//
// Memory: tensors fn allocates belong to the side stream's pool and are read on the current
// stream after the join; the next fork is recorded after those reads, so the side stream cannot
// reuse them early.
void on_side_stream(SideStream &side, const at::Device &device, const std::function<void()> &fn);

}  // namespace rast
