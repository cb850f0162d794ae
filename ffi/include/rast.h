/*
 * rast.h: the whole contract between the rast engine (C++ over libtorch) and its callers.
 *
 * Conventions
 * - Every function returns RAST_OK (0) or a negative RAST_E_* code; rast_last_error() then holds
 *   a one-line message naming the file, tensor or value at fault and the fix. The message is
 *   process-wide (a call may run on a worker thread), so callers serialise calls on a handle.
 * - Nothing aborts or throws across this boundary.
 * - Handles are opaque; each *_load / *_init has a matching *_free, which accepts NULL.
 * - Per-token calls pass only scalars and caller-owned buffers; sizes are in elements.
 * - A model's KV cache is a fixed-shape buffer [slots, kv_heads, max_len, head_dim] per layer,
 *   written at the (slot, position) given; slots are managed by the caller (any slot may be
 *   reused at any time by writing it again from position 0).
 */
#ifndef RAST_H
#define RAST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAST_ABI_VERSION 1

/* Return codes. */
#define RAST_OK 0
#define RAST_E_INVALID_ARGUMENT -1 /* a NULL handle, a size or index out of range, bad options */
#define RAST_E_IO -2               /* a file or folder is missing or unreadable */
#define RAST_E_FORMAT -3           /* config.json / safetensors / index malformed or inconsistent */
#define RAST_E_UNSUPPORTED -4      /* an architecture, dtype, rope type or device we do not run */
#define RAST_E_CAPACITY -5         /* the cache is not set up, or a sequence outgrows it */
#define RAST_E_BACKEND -6          /* libtorch failed (out of memory, device error, ...) */

typedef struct rast_model rast_model;
typedef struct rast_group rast_group;

/* The message of the most recent failure ("" if none); valid until this thread calls again. */
const char *rast_last_error(void);

/* RAST_ABI_VERSION of the loaded library; lets the binding refuse a stale build. */
int32_t rast_abi_version(void);

/* Build facts as JSON: {"torch":"1.13.1","cuda":false,"devices":0,"threads":2,
 *  "collectives":"gloo",...} (collectives: the c10d backends tensor parallelism can use).
 * Writes at most cap bytes (NUL-terminated); *len receives the full length without the NUL. */
int32_t rast_runtime_info(char *buf, int64_t cap, int64_t *len);

/* Loads a Hugging Face model folder (config.json + model.safetensors or a sharded index).
 * options_json (may be NULL): {"dtype":"float32"|"bfloat16"|"float16", "device":"cpu"|"cuda:0",
 * "threads":N, "tensorParallel":N}. Defaults: device cuda:0 in a CUDA build, else cpu; dtype
 * float32 on CPU, the checkpoint's own (torch_dtype, bf16 if unsaid) on a GPU.
 * tensorParallel N > 1 splits the model Megatron-style across N ranks, threads of this process
 * joined by c10d (NCCL on CUDA: GPUs device..device+N-1; Gloo on CPU: the ranks share "threads").
 * Each rank reads only its slices of the checkpoint. The handle behaves as one model: every call
 * below runs all ranks and returns rank 0's full-vocab logits. A split the heads do not allow
 * is RAST_E_UNSUPPORTED with a message naming the sizes that work.
 * Errors: RAST_E_INVALID_ARGUMENT, RAST_E_IO, RAST_E_FORMAT, RAST_E_UNSUPPORTED, RAST_E_BACKEND. */
int32_t rast_model_load(const char *dir, const char *options_json, rast_model **out);

/* Frees the model, its weights and its cache. NULL is a no-op. */
int32_t rast_model_free(rast_model *m);

/* The model's facts as JSON (architecture, sizes, vocab, dtypes, parameter count, rope, cache).
 * Same buffer rules as rast_runtime_info. */
int32_t rast_model_info(rast_model *m, char *buf, int64_t cap, int64_t *len);

/* Allocates the KV cache for n_slots sequences of up to max_len positions (zeroed). Calling it
 * again with the same shape is a no-op; another shape reallocates (contents are lost). */
int32_t rast_cache_init(rast_model *m, int32_t n_slots, int32_t max_len);

/* Bytes held by the KV cache (all ranks together). */
int64_t rast_cache_bytes(rast_model *m);

/* Copies positions [0, len) of slot src into slot dst (a prompt's KV shared by n samples). */
int32_t rast_cache_copy(rast_model *m, int32_t src, int32_t dst, int32_t len);

/* Logit selection for rast_model_forward. */
#define RAST_LOGITS_LAST 0 /* out_logits: [n_seqs, vocab], the last position of each sequence */
#define RAST_LOGITS_ALL 1  /* out_logits: [sum(seq_lens), vocab], every position, in order */
#define RAST_LOGITS_NONE 2 /* nothing copied out (out_logits may be NULL) */

/* One forward pass over a ragged batch: sequence i brings seq_lens[i] new tokens (concatenated in
 * tokens) that occupy positions start_pos[i] .. start_pos[i]+seq_lens[i]-1 of cache slot
 * slots[i]; it attends to positions [0, start_pos[i]) already in that slot. Prefill is
 * start_pos 0 and the prompt; a decode step is seq_lens 1. Slots must be distinct.
 * out_logits is caller-owned float32. Errors: RAST_E_INVALID_ARGUMENT, RAST_E_CAPACITY,
 * RAST_E_BACKEND. */
int32_t rast_model_forward(rast_model *m, const int32_t *tokens, const int32_t *seq_lens,
                           const int32_t *slots, const int32_t *start_pos, int32_t n_seqs,
                           int32_t logits_mode, float *out_logits);

/* Nanoseconds the last rast_model_forward of m spent inside the shim (checks, libtorch, copy
 * out); the caller's own clock around the call gives the FFI and caller overhead. */
int64_t rast_model_last_forward_ns(rast_model *m);

/* ---- RAST decoding: a base model steered by (positive, negative, weight) pairs ---- */

/* Groups a base model with n_pairs pairs (pos[i], neg[i], weights[i]); n_pairs may be 0 (plain
 * sampling from the base). The group borrows the models: free it before them. All models must
 * have caches of the same shape (rast_group_cache_init sets them all). */
int32_t rast_group_init(rast_model *base, rast_model *const *pos, rast_model *const *neg,
                        const float *weights, int32_t n_pairs, rast_group **out);
int32_t rast_group_free(rast_group *g);

/* rast_cache_init / rast_cache_copy on every model of the group. */
int32_t rast_group_cache_init(rast_group *g, int32_t n_slots, int32_t max_len);
int32_t rast_group_cache_copy(rast_group *g, int32_t src, int32_t dst, int32_t len);

/* The vocab shared by all models (the smallest); ids from it up to the base vocab are never
 * sampled. */
int32_t rast_group_vocab(rast_group *g, int32_t *shared_vocab, int32_t *base_vocab);

/* Floats per sequence in out_stats for a given stats_k:
 *   [0] log p_base(chosen)  [1] log p_combined(chosen)  [2] weighted delta of chosen
 *   [3] entropy of base  [4] entropy of combined  [5] KL(combined || base)     (nats, after T)
 *   [6, 6+K) top-K boosted ids  [6+K, 6+2K) their deltas
 *   [6+2K, 6+3K) top-K suppressed ids  [6+3K, 6+4K) their deltas                 */
#define RAST_STATS_WIDTH(k) (6 + 4 * (k))

/* One RAST step for a ragged batch (same layout as rast_model_forward): every model runs the
 * tokens, the last position of each sequence is combined as
 *   z = base[:V] + sum_i w_i (pos_i[:V] - neg_i[:V]),  z[V:] = -inf
 * then temperature (0: greedy), top_k (0: off), top_p (vLLM convention) and sampling with a
 * uniform drawn from (seeds[i], position of the new token): a sequence's tokens depend only on
 * its seed and its history. Outputs (caller-owned): out_tokens [n_seqs]; out_stats
 * [n_seqs, RAST_STATS_WIDTH(stats_k)] or NULL; out_logits [n_seqs, base vocab] combined logits
 * before temperature, or NULL. stats_k must be <= the shared vocab. */
int32_t rast_group_step(rast_group *g, const int32_t *tokens, const int32_t *seq_lens,
                        const int32_t *slots, const int32_t *start_pos, int32_t n_seqs,
                        const uint64_t *seeds, float temperature, float top_p, int32_t top_k,
                        int32_t stats_k, int32_t *out_tokens, float *out_stats,
                        float *out_logits);

/* For the step debugger: row `row` of the last step's logits of one model, float32.
 * which: 0 base [base vocab], 1 combined [base vocab], 2+2i positive i, 3+2i negative i
 * [that model's vocab]. out must hold that many floats; *len receives the count. */
int32_t rast_group_last_logits(rast_group *g, int32_t which, int32_t row, float *out,
                               int64_t cap, int64_t *len);

/* Timing of the last rast_group_step: *forward_ns in the models' forward passes, *sample_ns in
 * the combine, sampling and statistics with their copies out. */
int32_t rast_group_last_timing(rast_group *g, int64_t *forward_ns, int64_t *sample_ns);

#ifdef __cplusplus
}
#endif

#endif /* RAST_H */
