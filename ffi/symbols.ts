/**
 * The shim's symbol table: one entry per function of ffi/include/rast.h, each parameter
 * commented with its C type. Load, cache set-up, forward, prefill and step are nonblocking so
 * the UI keeps drawing while the model works; so are joining and following the process world,
 * which wait on other processes. Structs (rast_batch, rast_sampling, the stats)
 * cross as buffers laid out by ffi/structs.ts.
 */
export const symbols = {
  /** const char *rast_last_error(void) */
  rast_last_error: { parameters: [], result: "pointer" },
  /** int32_t rast_abi_version(void) */
  rast_abi_version: { parameters: [], result: "i32" },
  /** int32_t rast_runtime_info(char *buf, int64_t cap, int64_t *len) */
  rast_runtime_info: { parameters: ["buffer", "i64", "buffer"], result: "i32" },
  /** int32_t rast_device_memory(const char *device, int64_t *total, int64_t *free) */
  rast_device_memory: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  /** int32_t rast_device_peak_memory(const char *device, int32_t reset, int64_t *peak) */
  rast_device_peak_memory: { parameters: ["buffer", "i32", "buffer"], result: "i32" },
  /** int32_t rast_device_copy_bandwidth(const char *device, int64_t bytes, double *bytes_per_s) */
  rast_device_copy_bandwidth: { parameters: ["buffer", "i64", "buffer"], result: "i32" },
  /** int32_t rast_model_create(rast_model **out) */
  rast_model_create: { parameters: ["buffer"], result: "i32" },
  /** int32_t rast_model_load(rast_model *m, const char *dir, const char *options_json) */
  rast_model_load: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** const char *rast_model_error(const rast_model *m) */
  rast_model_error: { parameters: ["pointer"], result: "pointer" },
  /** int32_t rast_model_free(rast_model *m) */
  rast_model_free: { parameters: ["pointer"], result: "i32" },
  /** int32_t rast_model_info(rast_model *m, char *buf, int64_t cap, int64_t *len) */
  rast_model_info: { parameters: ["pointer", "buffer", "i64", "buffer"], result: "i32" },
  /** int32_t rast_cache_init(rast_model *m, int32_t n_blocks, int32_t block_size) */
  rast_cache_init: { parameters: ["pointer", "i32", "i32"], result: "i32", nonblocking: true },
  /** int64_t rast_cache_bytes(rast_model *m) */
  rast_cache_bytes: { parameters: ["pointer"], result: "i64" },
  /**
   * int32_t rast_cache_copy_blocks(rast_model *m, const int32_t *src, const int32_t *dst,
   *   int32_t n)
   */
  rast_cache_copy_blocks: { parameters: ["pointer", "buffer", "buffer", "i32"], result: "i32" },
  /**
   * int32_t rast_model_forward(rast_model *m, const rast_batch *batch, int32_t logits_mode,
   *   float *out_logits)
   */
  rast_model_forward: {
    parameters: ["pointer", "buffer", "i32", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** int32_t rast_model_last_stats(rast_model *m, rast_forward_stats *out) */
  rast_model_last_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  /** int32_t rast_count_ops(int32_t on) */
  rast_count_ops: { parameters: ["i32"], result: "i32" },
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
  /** const char *rast_group_error(const rast_group *g) */
  rast_group_error: { parameters: ["pointer"], result: "pointer" },
  /** int32_t rast_group_cache_init(rast_group *g, int32_t n_blocks, int32_t block_size) */
  rast_group_cache_init: {
    parameters: ["pointer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /**
   * int32_t rast_group_cache_copy_blocks(rast_group *g, const int32_t *src, const int32_t *dst,
   *   int32_t n)
   */
  rast_group_cache_copy_blocks: {
    parameters: ["pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  /** int64_t rast_group_kv_bytes_per_position(rast_group *g) */
  rast_group_kv_bytes_per_position: { parameters: ["pointer"], result: "i64" },
  /** int32_t rast_group_vocab(rast_group *g, int32_t *shared_vocab, int32_t *base_vocab) */
  rast_group_vocab: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /** int32_t rast_group_prefill(rast_group *g, const rast_batch *batch) */
  rast_group_prefill: { parameters: ["pointer", "buffer"], result: "i32", nonblocking: true },
  /** int32_t rast_sampling_default(rast_sampling *out) */
  rast_sampling_default: { parameters: ["buffer"], result: "i32" },
  /**
   * int32_t rast_group_step(rast_group *g, const rast_batch *batch, const uint64_t *seeds,
   *   const rast_sampling *sampling, int32_t *out_tokens, float *out_stats, float *out_logits)
   */
  rast_group_step: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /**
   * int32_t rast_group_step_launch(rast_group *g, const rast_batch *batch, const int32_t *feed,
   *   const uint64_t *seeds, const rast_sampling *sampling, int32_t want_stats)
   */
  rast_group_step_launch: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** int32_t rast_group_step_wait(rast_group *g, int32_t *out_tokens, float *out_stats) */
  rast_group_step_wait: {
    parameters: ["pointer", "buffer", "buffer"],
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
  /** int32_t rast_group_configure(rast_group *g, const char *options_json) */
  rast_group_configure: { parameters: ["pointer", "buffer"], result: "i32" },
  /** int32_t rast_group_info(rast_group *g, char *buf, int64_t cap, int64_t *len) */
  rast_group_info: { parameters: ["pointer", "buffer", "i64", "buffer"], result: "i32" },
  /** int32_t rast_group_last_stats(rast_group *g, rast_step_stats *out) */
  rast_group_last_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  /** const char *rast_world_error(void) */
  rast_world_error: { parameters: [], result: "pointer" },
  /** int32_t rast_world_join(char *buf, int64_t cap, int64_t *len) */
  rast_world_join: { parameters: ["buffer", "i64", "buffer"], result: "i32", nonblocking: true },
  /** int32_t rast_world_follow(int32_t *exit_code) */
  rast_world_follow: { parameters: ["buffer"], result: "i32", nonblocking: true },
  /** int32_t rast_world_close(int32_t exit_code) */
  rast_world_close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** ABI version this binding was written for (RAST_ABI_VERSION in rast.h). */
export const ABI_VERSION = 5;

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
