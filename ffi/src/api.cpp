// The C ABI of rast.h for models: argument checks, handle management and the try/catch that
// turns every failure into a return code plus the handle's error, so nothing throws across the
// boundary.
#include "api_util.h"

using namespace rast;

namespace rast {
void set_op_counting(bool on);  // api_util.cpp
}

extern "C" {

const char *rast_last_error(void) { return get_last_error(); }

int32_t rast_abi_version(void) { return RAST_ABI_VERSION; }

int32_t rast_runtime_info(char *buf, int64_t cap, int64_t *len) {
  return guarded(nullptr, [&] { write_text(runtime_info_json(), buf, cap, len); });
}

int32_t rast_device_memory(const char *device, int64_t *total, int64_t *free) {
  return guarded(nullptr, [&] {
    if (!device || !total || !free) fail(RAST_E_INVALID_ARGUMENT, "rast_device_memory: NULL argument");
    device_memory(device, total, free);
  });
}

int32_t rast_device_peak_memory(const char *device, int32_t reset, int64_t *peak) {
  return guarded(nullptr, [&] {
    if (!device || !peak) fail(RAST_E_INVALID_ARGUMENT, "rast_device_peak_memory: NULL argument");
    *peak = device_peak_memory(device, reset != 0);
  });
}

int32_t rast_device_copy_bandwidth(const char *device, int64_t bytes, double *bytes_per_second) {
  return guarded(nullptr, [&] {
    if (!device || !bytes_per_second || bytes <= 0)
      fail(RAST_E_INVALID_ARGUMENT, "rast_device_copy_bandwidth needs a device, bytes > 0 and an out pointer");
    *bytes_per_second = device_copy_bandwidth(device, bytes);
  });
}

int32_t rast_model_create(rast_model **out) {
  return guarded(nullptr, [&] {
    if (!out) fail(RAST_E_INVALID_ARGUMENT, "rast_model_create needs an out pointer");
    *out = new rast_model();
  });
}

int32_t rast_model_load(rast_model *m, const char *dir, const char *options_json) {
  if (!m) return guarded(nullptr, [] { fail(RAST_E_INVALID_ARGUMENT, "rast_model_load: the model handle is NULL"); });
  return guarded(&m->error, [&] {
    if (!dir) fail(RAST_E_INVALID_ARGUMENT, "rast_model_load needs a folder");
    model_handle_load(*m, dir, parse_load_options(options_json));
  });
}

const char *rast_model_error(const rast_model *m) { return m ? m->error.c_str() : ""; }

int32_t rast_model_free(rast_model *m) {
  // The other ranks of the process world drop their shards too (nothing to report if they
  // are gone: the handle goes either way).
  if (m && m->world_model > 0) guarded(&m->error, [&] { world_model_free(*m); });
  delete m;
  return RAST_OK;
}

int32_t rast_model_info(rast_model *m, char *buf, int64_t cap, int64_t *len) {
  return guarded(m ? &m->error : nullptr, [&] {
    loaded_model(m, "rast_model_info");
    write_text(model_info_json(*m), buf, cap, len);
  });
}

int32_t rast_cache_init(rast_model *m, int32_t n_blocks, int32_t block_size) {
  return guarded(m ? &m->error : nullptr, [&] {
    loaded_model(m, "rast_cache_init");
    ranks_cache_init(*m, n_blocks, block_size);
  });
}

int64_t rast_cache_bytes(rast_model *m) { return m && m->loaded ? ranks_cache_bytes(*m) : 0; }

int32_t rast_cache_copy_blocks(rast_model *m, const int32_t *src, const int32_t *dst, int32_t n) {
  return guarded(m ? &m->error : nullptr, [&] {
    loaded_model(m, "rast_cache_copy_blocks");
    ranks_cache_copy_blocks(*m, src, dst, n);
  });
}

int32_t rast_model_forward(rast_model *m, const rast_batch *batch, int32_t logits_mode,
                           float *out_logits) {
  return guarded(m ? &m->error : nullptr, [&] {
    Model &model = loaded_model(m, "rast_model_forward");
    if (logits_mode != RAST_LOGITS_NONE && !out_logits)
      fail(RAST_E_INVALID_ARGUMENT, "rast_model_forward: out_logits is NULL");
    const int64_t start = now_ns(), ops = ops_counted(), copies = blocking_copies.load();
    StepInput in = make_step_input(batch_limits(model), batch, logits_mode);
    at::Tensor logits = ranks_forward(*m, in);  // [R, V]
    if (logits_mode != RAST_LOGITS_NONE) copy_out(out_logits, logits);
    const int64_t per_position = ranks_kv_bytes_per_position(*m);
    m->last = {now_ns() - start, in.kv_reads * per_position, in.kv_positions * per_position,
               ops_counted() - ops, blocking_copies.load() - copies};
  });
}

int32_t rast_model_last_stats(rast_model *m, rast_forward_stats *out) {
  return guarded(m ? &m->error : nullptr, [&] {
    loaded_model(m, "rast_model_last_stats");
    if (!out) fail(RAST_E_INVALID_ARGUMENT, "rast_model_last_stats: out is NULL");
    *out = m->last;
  });
}

int32_t rast_count_ops(int32_t on) {
  return guarded(nullptr, [&] { set_op_counting(on != 0); });
}

}  // extern "C"
