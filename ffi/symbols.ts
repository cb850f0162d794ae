/**
 * The shim's symbol table: one entry per function of ffi/include/rast.h, each parameter
 * commented with its C type. Load, cache set-up and forward are nonblocking so the UI keeps
 * drawing while the model works.
 */
export const symbols = {
  /** const char *rast_last_error(void) */
  rast_last_error: { parameters: [], result: "pointer" },
  /** int32_t rast_abi_version(void) */
  rast_abi_version: { parameters: [], result: "i32" },
  /** int32_t rast_runtime_info(char *buf, int64_t cap, int64_t *len) */
  rast_runtime_info: { parameters: ["buffer", "i64", "buffer"], result: "i32" },
  /** int32_t rast_model_load(const char *dir, const char *options_json, rast_model **out) */
  rast_model_load: {
    parameters: ["buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** int32_t rast_model_free(rast_model *m) */
  rast_model_free: { parameters: ["pointer"], result: "i32" },
  /** int32_t rast_model_info(rast_model *m, char *buf, int64_t cap, int64_t *len) */
  rast_model_info: { parameters: ["pointer", "buffer", "i64", "buffer"], result: "i32" },
  /** int32_t rast_cache_init(rast_model *m, int32_t n_slots, int32_t max_len) */
  rast_cache_init: { parameters: ["pointer", "i32", "i32"], result: "i32", nonblocking: true },
  /** int64_t rast_cache_bytes(rast_model *m) */
  rast_cache_bytes: { parameters: ["pointer"], result: "i64" },
  /** int32_t rast_cache_copy(rast_model *m, int32_t src, int32_t dst, int32_t len) */
  rast_cache_copy: { parameters: ["pointer", "i32", "i32", "i32"], result: "i32" },
  /**
   * int32_t rast_model_forward(rast_model *m, const int32_t *tokens, const int32_t *seq_lens,
   *   const int32_t *slots, const int32_t *start_pos, int32_t n_seqs, int32_t logits_mode,
   *   float *out_logits)
   */
  rast_model_forward: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer", "i32", "i32", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** int64_t rast_model_last_forward_ns(rast_model *m) */
  rast_model_last_forward_ns: { parameters: ["pointer"], result: "i64" },
  /**
   * int32_t rast_group_init(rast_model *base, rast_model *const *pos, rast_model *const *neg,
   *   const float *weights, int32_t n_pairs, rast_group **out)
   */
  rast_group_init: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32", "buffer"],
    result: "i32",
  },
  /** int32_t rast_group_free(rast_group *g) */
  rast_group_free: { parameters: ["pointer"], result: "i32" },
  /** int32_t rast_group_cache_init(rast_group *g, int32_t n_slots, int32_t max_len) */
  rast_group_cache_init: {
    parameters: ["pointer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** int32_t rast_group_cache_copy(rast_group *g, int32_t src, int32_t dst, int32_t len) */
  rast_group_cache_copy: { parameters: ["pointer", "i32", "i32", "i32"], result: "i32" },
  /** int32_t rast_group_vocab(rast_group *g, int32_t *shared_vocab, int32_t *base_vocab) */
  rast_group_vocab: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /**
   * int32_t rast_group_step(rast_group *g, const int32_t *tokens, const int32_t *seq_lens,
   *   const int32_t *slots, const int32_t *start_pos, int32_t n_seqs, const uint64_t *seeds,
   *   float temperature, float top_p, int32_t top_k, int32_t stats_k, int32_t *out_tokens,
   *   float *out_stats, float *out_logits)
   */
  rast_group_step: {
    parameters: [
      "pointer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i32",
      "buffer",
      "f32",
      "f32",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
    nonblocking: true,
  },
  /**
   * int32_t rast_group_last_logits(rast_group *g, int32_t which, int32_t row, float *out,
   *   int64_t cap, int64_t *len)
   */
  rast_group_last_logits: {
    parameters: ["pointer", "i32", "i32", "buffer", "i64", "buffer"],
    result: "i32",
  },
  /** int32_t rast_group_last_timing(rast_group *g, int64_t *forward_ns, int64_t *sample_ns) */
  rast_group_last_timing: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** ABI version this binding was written for (RAST_ABI_VERSION in rast.h). */
export const ABI_VERSION = 1;

/** Return codes of rast.h. */
export const Status = {
  OK: 0,
  INVALID_ARGUMENT: -1,
  IO: -2,
  FORMAT: -3,
  UNSUPPORTED: -4,
  CAPACITY: -5,
  BACKEND: -6,
} as const;

/** Logit selection of rast_model_forward. */
export const LogitsMode = { LAST: 0, ALL: 1, NONE: 2 } as const;
