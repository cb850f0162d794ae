// A handle's model on one rank or on many: loading, and the forward pass and cache operations
// dispatched to every rank of a tensor-parallel model (which must all take part, since the
// forward pass meets at collectives).
#include <thread>

#include "api_util.h"

namespace rast {

std::unique_ptr<rast_model> model_handle_load(const std::string &dir, const LoadOptions &o) {
  auto handle = std::make_unique<rast_model>();
  Model &m = handle->model;
  m.dir = dir;
  m.device = o.device;
  m.cfg = config_load(m.dir);
  m.dtype = o.dtype_given ? o.dtype : default_dtype(m.device, m.cfg.disk_dtype);
  if (o.tensor_parallel <= 1) {
    set_threads(o.threads);
    weights_load(m);
    return handle;
  }
  // The ranks share the thread budget; on CUDA the threads only feed their GPUs.
  const int total =
      o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  handle->tp = std::make_unique<TensorParallel>(m, o.tensor_parallel, total / o.tensor_parallel);
  return handle;
}

// The step input on `device`: the same tensors when they are already there.
static StepInput step_input_on(const StepInput &in, const at::Device &device) {
  if (in.tokens.device() == device) return in;
  StepInput out = in;
  for (at::Tensor *t : {&out.tokens, &out.positions, &out.slots, &out.valid, &out.valid_slot,
                        &out.valid_pos, &out.rows, &out.attn_rows, &out.attn_positions})
    if (t->defined()) *t = t->to(device);
  return out;
}

at::Tensor ranks_forward(rast_model &h, const StepInput &in) {
  if (!h.tp) return model_forward(h.model, in);
  at::Tensor logits;
  h.tp->run([&](Model &m, int rank) {
    at::Tensor out = model_forward(m, step_input_on(in, m.device));  // full vocab on every rank
    if (rank == 0) logits = out;
  });
  return logits;
}

void ranks_cache_init(rast_model &h, int32_t slots, int32_t max_len) {
  if (!h.tp) return cache_init(h.model, slots, max_len);
  h.tp->run([&](Model &m, int) { cache_init(m, slots, max_len); });
}

void ranks_cache_copy(rast_model &h, int32_t src, int32_t dst, int32_t len) {
  if (!h.tp) return cache_copy(h.model, src, dst, len);
  h.tp->run([&](Model &m, int) { cache_copy(m, src, dst, len); });
}

int64_t ranks_cache_bytes(const rast_model &h) {
  if (!h.tp) return cache_bytes(h.model);
  int64_t total = 0;
  for (int r = 0; r < h.tp->world(); r++) total += cache_bytes(h.tp->rank(r));
  return total;
}

}  // namespace rast
