// How a c10d process group becomes the two collectives model.cpp calls, shared by the ranks that
// are threads (tensor_parallel.cpp) and the ranks that are processes (process_world.cpp).
#pragma once

#include <c10/core/InferenceMode.h>

#include <vector>

#include "model.h"

// A backend is built in when the Makefile asks for it and its headers are there (a libtorch
// distribution may lack gloo/ or nccl.h): then tensor parallelism on that device is refused at
// load instead of the shim failing to build.
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#define RAST_TP_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define RAST_TP_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace rast {

// One rank's end of a process group, as the two collectives model.cpp needs.
struct RankCollectives {
  AllReduce all_reduce;
  AllGather all_gather;
};

#if defined(RAST_TP_GLOO) || defined(RAST_TP_NCCL)
// The collectives of a concrete process group (ProcessGroupGloo and ProcessGroupNCCL share these
// methods in every torch since 1.13; their base class changed in 2.0, so we bind the concrete
// type). gloo: ProcessGroupGloo works on its own thread, outside InferenceMode, where inference
// tensors are read-only, and torch 1.13's Gloo cannot sum bfloat16; so it gets ordinary float32
// buffers, and half-width partial sums are added in float32 and rounded once, as one rank's
// matmul would.
template <typename Group>
RankCollectives bind(c10::intrusive_ptr<Group> group, int world, bool gloo) {
  RankCollectives c;
  c.all_reduce = [group, gloo](at::Tensor &t) {
    at::Tensor buf = t.contiguous();
    if (gloo) {
      c10::InferenceMode normal_tensors(false);
      buf = t.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true).contiguous();
    }
    std::vector<at::Tensor> bufs{buf};
    group->allreduce(bufs)->wait();
    if (!buf.is_same(t)) t.copy_(buf);
  };
  c.all_gather = [group, world, gloo](const at::Tensor &t, int64_t dim) {
    // Gloo writes the outputs on its thread: make them ordinary tensors (NCCL: leave the mode).
    c10::InferenceMode mode(gloo ? false : c10::InferenceMode::is_enabled());
    std::vector<at::Tensor> in{t.contiguous()};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < world; r++) out[0].push_back(at::empty_like(in[0]));
    group->allgather(out, in)->wait();
    return at::cat(out[0], dim);  // rank order = vocab slice order
  };
  return c;
}
#endif

}  // namespace rast
