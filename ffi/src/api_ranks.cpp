// A handle's model on one rank or on many: loading, and the forward pass and cache operations
// dispatched to every rank of a tensor-parallel model (which must all take part, since the
// forward pass meets at collectives): rank threads of this process, or the ranks of the process
// world (world_calls.cpp).
#include <thread>

#include "api_util.h"
#include "process_world.h"

namespace rast {

void model_handle_load(rast_model &handle, const std::string &dir, const LoadOptions &o) {
  if (handle.loaded) fail(RAST_E_INVALID_ARGUMENT, "This model handle is already loaded");
  Model &m = handle.model;
  m.dir = dir;
  m.device = world_device(o.device);  // in a process world, this rank's GPU
  m.deterministic = o.deterministic;
  m.fused_kernels = o.fused_kernels;
  m.random_weights = o.random_weights;
  m.cfg = config_load(m.dir);
  m.dtype = o.dtype_given ? o.dtype : default_dtype(m.device, m.cfg.disk_dtype);
  if (o.random_weights && o.tensor_parallel > 1 && world_is_split())
    fail(RAST_E_UNSUPPORTED, "randomWeights serves benchmarks in one process; split a real "
                             "checkpoint across the process world, or use tensorParallel 1");
  if (o.tensor_parallel <= 1) {
    set_threads(o.threads);
    weights_load(m);
  } else if (world_is_split()) {
    world_model_load(handle, o);
  } else {
    // The ranks share the thread budget; on CUDA the threads only feed their GPUs.
    const int total =
        o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
    handle.tp = std::make_unique<TensorParallel>(m, o.tensor_parallel, total / o.tensor_parallel);
  }
  handle.loaded = true;
}

Model &loaded_model(rast_model *h, const char *call) {
  if (!h) fail(RAST_E_INVALID_ARGUMENT, std::string(call) + ": the model handle is NULL");
  if (!h->loaded)
    fail(RAST_E_INVALID_ARGUMENT, std::string(call) + ": the model is not loaded; call "
                                                      "rast_model_load first");
  return h->model;
}

// The step input on `device`: the same tensors when they are already there.
static StepInput step_input_on(const StepInput &in, const at::Device &device) {
  if (in.tokens.device() == device) return in;
  StepInput out = in;
  for (at::Tensor *t : {&out.tokens, &out.positions, &out.write_rows, &out.rows, &out.kv_rows,
                        &out.kv_query, &out.block_table, &out.seqused_k, &out.cu_seqlens_q,
                        &out.cu_seqlens_k})
    if (t->defined()) *t = t->to(device);
  for (at::Tensor &t : out.seq_kv_rows) t = t.to(device);
  return out;
}

at::Tensor ranks_forward(rast_model &h, const StepInput &in) {
  if (h.world_model > 0) return world_forward(h, in);
  if (!h.tp) return model_forward(h.model, in);
  at::Tensor logits;
  h.tp->run([&](Model &m, int rank) {
    at::Tensor out = model_forward(m, step_input_on(in, m.device));  // full vocab on every rank
    if (rank == 0) logits = out;
  });
  return logits;
}

void ranks_cache_init(rast_model &h, int32_t n_blocks, int32_t block_size) {
  if (h.world_model > 0) return world_cache_init(h, n_blocks, block_size);
  if (!h.tp) return cache_init(h.model, n_blocks, block_size);
  h.tp->run([&](Model &m, int) { cache_init(m, n_blocks, block_size); });
}

void ranks_cache_copy_blocks(rast_model &h, const int32_t *src, const int32_t *dst, int32_t n) {
  if (n < 0 || (n > 0 && (!src || !dst)))
    fail(RAST_E_INVALID_ARGUMENT, "copy_blocks needs src and dst arrays of n >= 0 block ids");
  const int32_t pool = h.model.cache.n_blocks;
  if (pool == 0) fail(RAST_E_CAPACITY, "The KV cache is not set up; call rast_cache_init first");
  std::vector<int64_t> ids;
  for (int32_t i = 0; i < n; i++) {
    for (int32_t id : {src[i], dst[i]})
      if (id < 0 || id >= pool)
        fail(RAST_E_CAPACITY, "Block " + std::to_string(id) + " is outside the pool's " +
                                  std::to_string(pool) + " blocks");
    ids.push_back(src[i]);
  }
  for (int32_t i = 0; i < n; i++) ids.push_back(dst[i]);
  if (n == 0) return;
  if (h.world_model > 0) return world_cache_copy_blocks(h, ids);
  at::Tensor all = at::from_blob(ids.data(), {2 * int64_t(n)}, at::kLong).clone();
  auto copy = [&](Model &m) {
    at::Tensor on = all.to(m.device);
    cache_copy_blocks(m, on.narrow(0, 0, n), on.narrow(0, n, n));
  };
  if (!h.tp) return copy(h.model);
  h.tp->run([&](Model &m, int) { copy(m); });
}

int64_t ranks_cache_bytes(const rast_model &h) {
  // Every rank of the process world holds a shard the shape of rank 0's.
  if (h.world_model > 0) return cache_bytes(h.model) * world_info().world;
  if (!h.tp) return cache_bytes(h.model);
  int64_t total = 0;
  for (int r = 0; r < h.tp->world(); r++) total += cache_bytes(h.tp->rank(r));
  return total;
}

int64_t ranks_kv_bytes_per_position(const rast_model &h) {
  if (h.world_model > 0) return kv_bytes_per_position(h.model) * world_info().world;
  if (!h.tp) return kv_bytes_per_position(h.model);
  int64_t total = 0;
  for (int r = 0; r < h.tp->world(); r++) total += kv_bytes_per_position(h.tp->rank(r));
  return total;
}

}  // namespace rast
