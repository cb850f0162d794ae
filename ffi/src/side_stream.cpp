// The pair models' stream (side_stream.h).
#include "side_stream.h"

#ifdef RAST_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace rast {

void on_side_stream(SideStream &side, const at::Device &device, const std::function<void()> &fn) {
#ifdef RAST_CUDA
  if (device.is_cuda()) {
    const auto index = static_cast<c10::DeviceIndex>(device.index() < 0 ? 0 : device.index());
    if (!side.stream || side.device != index) {
      side.stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index);
      side.device = index;
    }
    c10::cuda::CUDAStream main = c10::cuda::getCurrentCUDAStream(index);
    at::cuda::CUDAEvent forked, joined;
    forked.record(main);
    forked.block(*side.stream);
    {
      c10::cuda::CUDAStreamGuard guard(*side.stream);
      fn();
    }
    joined.record(*side.stream);
    joined.block(main);
    return;
  }
#endif
  fn();
}

}  // namespace rast
