// The C ABI of rast.h: argument checks, handle management and the try/catch that turns every
// failure into a return code plus rast_last_error(), so nothing throws across the boundary.
#include "api_util.h"

using namespace rast;

extern "C" {

const char *rast_last_error(void) { return get_last_error(); }

int32_t rast_abi_version(void) { return RAST_ABI_VERSION; }

int32_t rast_runtime_info(char *buf, int64_t cap, int64_t *len) {
  return guarded([&] { write_text(runtime_info_json(), buf, cap, len); });
}

int32_t rast_model_load(const char *dir, const char *options_json, rast_model **out) {
  return guarded([&] {
    if (!dir || !out) fail(RAST_E_INVALID_ARGUMENT, "rast_model_load needs a folder and an out pointer");
    *out = nullptr;
    *out = model_handle_load(dir, parse_load_options(options_json)).release();
  });
}

int32_t rast_model_free(rast_model *m) {
  delete m;
  return RAST_OK;
}

int32_t rast_model_info(rast_model *m, char *buf, int64_t cap, int64_t *len) {
  return guarded([&] {
    if (!m) fail(RAST_E_INVALID_ARGUMENT, "rast_model_info: the model handle is NULL");
    write_text(model_info_json(*m), buf, cap, len);
  });
}

int32_t rast_cache_init(rast_model *m, int32_t n_slots, int32_t max_len) {
  return guarded([&] {
    if (!m) fail(RAST_E_INVALID_ARGUMENT, "rast_cache_init: the model handle is NULL");
    ranks_cache_init(*m, n_slots, max_len);
  });
}

int64_t rast_cache_bytes(rast_model *m) { return m ? ranks_cache_bytes(*m) : 0; }

int32_t rast_cache_copy(rast_model *m, int32_t src, int32_t dst, int32_t len) {
  return guarded([&] {
    if (!m) fail(RAST_E_INVALID_ARGUMENT, "rast_cache_copy: the model handle is NULL");
    ranks_cache_copy(*m, src, dst, len);
  });
}

int32_t rast_model_forward(rast_model *m, const int32_t *tokens, const int32_t *seq_lens,
                           const int32_t *slots, const int32_t *start_pos, int32_t n_seqs,
                           int32_t logits_mode, float *out_logits) {
  return guarded([&] {
    if (!m) fail(RAST_E_INVALID_ARGUMENT, "rast_model_forward: the model handle is NULL");
    if (logits_mode != RAST_LOGITS_NONE && !out_logits)
      fail(RAST_E_INVALID_ARGUMENT, "rast_model_forward: out_logits is NULL");
    const int64_t start = now_ns();
    Model &model = m->model;
    StepInput in = make_step_input(model, tokens, seq_lens, slots, start_pos, n_seqs, logits_mode);
    at::Tensor logits = ranks_forward(*m, in);  // [R, V]
    if (logits_mode != RAST_LOGITS_NONE)
      at::from_blob(out_logits, logits.sizes(), at::kFloat).copy_(logits);
    m->last_forward_ns = now_ns() - start;
  });
}

int64_t rast_model_last_forward_ns(rast_model *m) { return m ? m->last_forward_ns : 0; }

}  // extern "C"
