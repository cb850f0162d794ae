/*
 * rast.h: the whole contract between the rast engine (C++ over libtorch) and its callers.
 *
 * Conventions
 * - Every function returns RAST_OK (0) or a negative RAST_E_* code. The message of a failure
 *   lives with the handle the call was made on (rast_model_error, rast_group_error), so a call
 *   that ran on a worker thread can be explained from any thread; calls without a handle
 *   (rast_model_create, rast_group_init, rast_runtime_info) leave it in rast_last_error(),
 *   which is per thread. Callers serialise calls on one handle.
 * - Nothing aborts or throws across this boundary.
 * - Handles are opaque; each *_create / *_init has a matching *_free, which accepts NULL.
 * - Per-token calls pass only scalars and caller-owned buffers; sizes are in elements.
 *
 * The paged KV cache
 * - A model's cache is a pool of n_blocks blocks of block_size positions (per layer K and V
 *   tensors [n_blocks * block_size, kv_heads, head_dim], which is flash attention's paged
 *   layout [n_blocks, block_size, kv_heads, head_dim]).
 * - The caller owns the block tables: sequence i of a batch passes row i of an int32 array
 *   block_table[n_seqs][max_blocks]; its position p lives in block block_table[i][p / block_size]
 *   at offset p % block_size. Entries past a sequence's length are ignored.
 * - Blocks may be shared by several sequences (a prompt's prefix read by its n samples); the
 *   caller must give a sequence blocks of its own before it writes to them (copy on write:
 *   rast_cache_copy_blocks). A step writes the K/V of its new tokens only.
 */
#ifndef RAST_H
#define RAST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAST_ABI_VERSION 5

/* Return codes. */
#define RAST_OK 0
#define RAST_E_INVALID_ARGUMENT -1 /* a NULL handle, a size or index out of range, bad options */
#define RAST_E_IO -2               /* a file or folder is missing or unreadable */
#define RAST_E_FORMAT -3           /* config.json / safetensors / index malformed or inconsistent */
#define RAST_E_UNSUPPORTED -4      /* an architecture, dtype, rope type or device we do not run */
#define RAST_E_CAPACITY -5         /* the cache is not set up, or a block id is outside the pool */
#define RAST_E_BACKEND -6          /* libtorch failed (out of memory, device error, ...) */

typedef struct rast_model rast_model;
typedef struct rast_group rast_group;

/* The message of this thread's most recent failure without a handle ("" if none). */
const char *rast_last_error(void);

/* RAST_ABI_VERSION of the loaded library; lets the binding refuse a stale build. */
int32_t rast_abi_version(void);

/* Build facts as JSON: {"torch":"1.13.1","cuda":false,"devices":0,"threads":2,
 *  "collectives":"gloo",...} (collectives: the c10d backends tensor parallelism can use).
 * Writes at most cap bytes (NUL-terminated); *len receives the full length without the NUL. */
int32_t rast_runtime_info(char *buf, int64_t cap, int64_t *len);

/* Memory of a device in bytes: "cpu" gives physical and available memory, "cuda:N" the GPU's
 * total and free memory as the driver reports them now. */
int32_t rast_device_memory(const char *device, int64_t *total, int64_t *free);

/* Memory the caching allocator of libtorch has held on a GPU ("cuda:N") at most since the last
 * reset, in bytes; reset != 0 starts a new window after reading. RAST_E_UNSUPPORTED on cpu. */
int32_t rast_device_peak_memory(const char *device, int32_t reset, int64_t *peak);

/* A device's copy bandwidth: a buffer of `bytes` bytes copied within the device's memory, best
 * of ten, as bytes read plus bytes written per second (what a decode step's weight reads are
 * measured against). */
int32_t rast_device_copy_bandwidth(const char *device, int64_t bytes, double *bytes_per_second);

/* ---- Models ---- */

/* An empty model handle, to load into; its errors are kept in it from then on. */
int32_t rast_model_create(rast_model **out);

/* Loads a Hugging Face model folder (config.json + model.safetensors or a sharded index).
 * options_json (may be NULL): {"dtype":"float32"|"bfloat16"|"float16", "device":"cpu"|"cuda:0",
 * "threads":N, "tensorParallel":N, "deterministic":bool, "fusedKernels":bool,
 * "randomWeights":bool}. fusedKernels (default true): the shim's CUDA kernels for residual add +
 * RMSNorm, rope + KV write and SiLU·mul on bfloat16 / float16 GPU models (builds made with nvcc);
 * false keeps eager ATen ops. randomWeights: no checkpoint is read, only config.json; weights are
 * drawn on the device, N(0, 1/hidden) (the output matrix N(0, 64/hidden), so next-token
 * distributions are peaked; norms 1), to benchmark real shapes without a download. Defaults: device cuda:0 in a CUDA
 * build, else cpu; dtype float32 on CPU, the checkpoint's own (torch_dtype, bf16 if unsaid) on
 * a GPU. deterministic: every token's logits are computed the same way whatever else is in its
 * batch (one matrix-vector product per row, one attention rule for prefill and decode), so a
 * sequence's output does not depend on batch composition, preemption or resume; slower.
 * tensorParallel N > 1 splits the model Megatron-style across N ranks, threads of this process
 * joined by c10d (NCCL on CUDA: GPUs device..device+N-1; Gloo on CPU: the ranks share "threads").
 * Each rank reads only its slices of the checkpoint. The handle behaves as one model: every call
 * below runs all ranks and returns rank 0's full-vocab logits. A split the heads do not allow
 * is RAST_E_UNSUPPORTED with a message naming the sizes that work. After rast_world_join in a
 * world of several processes the ranks are those processes instead (see below). A handle loads
 * once.
 * Errors: RAST_E_INVALID_ARGUMENT, RAST_E_IO, RAST_E_FORMAT, RAST_E_UNSUPPORTED, RAST_E_BACKEND. */
int32_t rast_model_load(rast_model *m, const char *dir, const char *options_json);

/* The message of the model's most recent failure ("" if none); valid until its next call. */
const char *rast_model_error(const rast_model *m);

/* Frees the model, its weights and its cache. NULL is a no-op. */
int32_t rast_model_free(rast_model *m);

/* The model's facts as JSON (architecture, sizes, vocab, dtypes, parameter count, rope, cache,
 * kvBytesPerPosition). Same buffer rules as rast_runtime_info. */
int32_t rast_model_info(rast_model *m, char *buf, int64_t cap, int64_t *len);

/* Allocates the KV block pool: n_blocks blocks of block_size positions. Calling it again with
 * the same shape is a no-op; another shape reallocates (contents are lost). On CUDA the flash
 * kernel's paged path needs block_size to be a multiple of 256. */
int32_t rast_cache_init(rast_model *m, int32_t n_blocks, int32_t block_size);

/* Bytes held by the KV cache (all ranks together). */
int64_t rast_cache_bytes(rast_model *m);

/* Copies block src[i] into block dst[i] for i < n (copy on write of a shared block). */
int32_t rast_cache_copy_blocks(rast_model *m, const int32_t *src, const int32_t *dst, int32_t n);

/* Logit selection for rast_model_forward. */
#define RAST_LOGITS_LAST 0 /* out_logits: [n_seqs, vocab], the last position of each sequence */
#define RAST_LOGITS_ALL 1  /* out_logits: [sum(seq_lens), vocab], every position, in order */
#define RAST_LOGITS_NONE 2 /* nothing copied out (out_logits may be NULL) */

/* A ragged batch: sequence i brings seq_lens[i] new tokens (concatenated in tokens) at positions
 * start_pos[i] .. start_pos[i]+seq_lens[i]-1; it attends to positions [0, start_pos[i]) already
 * in its blocks and to its own new tokens causally. block_table: [n_seqs, max_blocks] int32. */
typedef struct rast_batch {
  const int32_t *tokens;      /* [sum(seq_lens)] */
  const int32_t *seq_lens;    /* [n_seqs], each >= 1 */
  const int32_t *start_pos;   /* [n_seqs] */
  const int32_t *block_table; /* [n_seqs * max_blocks] */
  int32_t max_blocks;         /* row length of block_table */
  int32_t n_seqs;
} rast_batch;

/* One forward pass over a batch; out_logits is caller-owned float32.
 * Errors: RAST_E_INVALID_ARGUMENT, RAST_E_CAPACITY, RAST_E_BACKEND. */
int32_t rast_model_forward(rast_model *m, const rast_batch *batch, int32_t logits_mode,
                           float *out_logits);

/* What the last forward (or group step) of a model cost. kv_read_bytes: K/V bytes attention
 * read; kv_live_bytes: K/V bytes of the positions the sequences attend to (their ratio is 1
 * when attention reads no padding). ops: ATen operators run, counted only while
 * rast_count_ops(1) is on; blocking_copies: host <-> device copies that waited. */
typedef struct rast_forward_stats {
  int64_t ns;
  int64_t kv_read_bytes;
  int64_t kv_live_bytes;
  int64_t ops;
  int64_t blocking_copies;
} rast_forward_stats;
int32_t rast_model_last_stats(rast_model *m, rast_forward_stats *out);

/* Counts ATen operators (on every thread of the process) while on != 0; off by default since
 * the callback costs time. */
int32_t rast_count_ops(int32_t on);

/* ---- RAST decoding: a base model steered by (positive, negative, weight) pairs ---- */

/* Groups a base model with n_pairs pairs (pos[i], neg[i], weights[i]); n_pairs may be 0 (plain
 * sampling from the base). The group borrows the models: free it before them. All models of a
 * group share the caller's block tables, so their pools must have the same shape
 * (rast_group_cache_init sets them all). */
int32_t rast_group_init(rast_model *base, rast_model *const *pos, rast_model *const *neg,
                        const float *weights, int32_t n_pairs, rast_group **out);
int32_t rast_group_free(rast_group *g);

/* The message of the group's most recent failure ("" if none). */
const char *rast_group_error(const rast_group *g);

/* rast_cache_init / rast_cache_copy_blocks on every distinct model of the group. */
int32_t rast_group_cache_init(rast_group *g, int32_t n_blocks, int32_t block_size);
int32_t rast_group_cache_copy_blocks(rast_group *g, const int32_t *src, const int32_t *dst,
                                     int32_t n);

/* K/V bytes per cached position, all distinct models of the group together (sizes the pool). */
int64_t rast_group_kv_bytes_per_position(rast_group *g);

/* The vocab shared by all models (the smallest); ids from it up to the base vocab are never
 * sampled. */
int32_t rast_group_vocab(rast_group *g, int32_t *shared_vocab, int32_t *base_vocab);

/* Fills the K/V of a batch in every distinct model of the group (each once, though it may
 * serve several pairs); no logits. Several prompts prefill in one call. */
int32_t rast_group_prefill(rast_group *g, const rast_batch *batch);

/* Sampling settings of a step. */
typedef struct rast_sampling {
  float temperature; /* 0: greedy */
  float top_p;       /* (0, 1], vLLM convention: never drops the top token */
  int32_t top_k;     /* 0: off */
  int32_t stats_k;   /* length of the boosted / suppressed lists, <= the shared vocab */
} rast_sampling;

/* The defaults: temperature 1, top_p 1, top_k 0, stats_k 8. */
int32_t rast_sampling_default(rast_sampling *out);

/* Floats per sequence in out_stats for a given stats_k:
 *   [0] log p_base(chosen)  [1] log p_combined(chosen)  [2] weighted delta of chosen
 *   [3] entropy of base  [4] entropy of combined  [5] KL(combined || base)     (nats, after T)
 *   [6] the base's argmax id (within the shared vocab)
 *   [7, 7+K) top-K boosted ids  [7+K, 7+2K) their deltas
 *   [7+2K, 7+3K) top-K suppressed ids  [7+3K, 7+4K) their deltas                 */
#define RAST_STATS_WIDTH(k) (7 + 4 * (k))

/* One RAST step for a batch: every model runs the tokens, the last position of each sequence is
 * combined as
 *   z = base[:V] + sum_i w_i (pos_i[:V] - neg_i[:V]),  z[V:] = -inf
 * then temperature, top_k, top_p and sampling with a uniform drawn from (seeds[i], position of
 * the new token): a sequence's tokens depend only on its seed and its history. Outputs
 * (caller-owned): out_tokens [n_seqs]; out_stats [n_seqs, RAST_STATS_WIDTH(stats_k)] or NULL;
 * out_logits [n_seqs, base vocab] combined logits before temperature, or NULL.
 * A row whose logits hold a NaN or an infinity in any model gets a negative token naming the
 * first such model: -1 base, -2 - 2i positive i, -3 - 2i negative i (its statistics are
 * meaningless); the other rows are sampled as usual. */
int32_t rast_group_step(rast_group *g, const rast_batch *batch, const uint64_t *seeds,
                        const rast_sampling *sampling, int32_t *out_tokens, float *out_stats,
                        float *out_logits);

/* Pipelined decode (vLLM's async scheduling): rast_group_step_launch issues a step and returns
 * before its tokens reach the host; rast_group_step_wait hands over the oldest launched step's
 * outputs (out_tokens and out_stats as in rast_group_step; out_stats only for a step launched
 * with want_stats != 0). Between the two the caller may launch the next step, taking tokens from
 * the step before's samples still on the device: feed (may be NULL) [n_seqs], feed[i] >= 0 feeds
 * sequence i the token sampled in row feed[i] of the step launched just before (its
 * batch->tokens[i] is then ignored; seq_lens[i] must be 1), -1 takes batch->tokens[i]. So the
 * device runs step t+1 while the host reads step t's tokens, checks its stops and plans; a
 * sequence that stopped at step t has a token too many in step t+1, which the caller drops (its
 * blocks must stay allocated until step t+1 is waited for, or be reused only by later calls).
 * Tokens are the ones rast_group_step would sample: a row whose top-p nucleus was wider than the
 * sampler's prefilter is resampled exactly at its wait, and a next step that took that row's
 * first token is run again at its own wait. At most two launched steps wait at once; the wait
 * may run while the next launch does (the one pair of calls on a handle that may overlap).
 * rast_group_step, rast_group_cache_init and rast_group_configure refuse while steps wait.
 * rast_group_last_stats describes the last waited step; rast_group_last_logits only follows
 * rast_group_step. */
int32_t rast_group_step_launch(rast_group *g, const rast_batch *batch, const int32_t *feed,
                               const uint64_t *seeds, const rast_sampling *sampling,
                               int32_t want_stats);
int32_t rast_group_step_wait(rast_group *g, int32_t *out_tokens, float *out_stats);

/* CUDA graphs for decode steps (off until asked for). options_json: {"cudaGraphs":bool,
 * "maxBatch":N, "maxSeqLen":N, "deviceFeed":bool}. deviceFeed: where a pipelined step's fed
 * tokens are taken (rast_group_step_launch): true on the device, false from the host rows of
 * the step before (settled first); by default on the device on a GPU and on the host on a CPU,
 * always on the host with ranks in other processes. With cudaGraphs true, a decode step (one token per sequence) of at
 * most maxBatch sequences, none past position maxSeqLen - 1, replays the CUDA graph of its batch
 * bucket (1, 2, 4, 8, then multiples of 8), captured on that bucket's first step: the three
 * forward passes, combine, sampling and statistics in one launch, inputs through one
 * non-blocking copy. Each sampling setting has graphs of its own. Other steps run eagerly, as do
 * groups whose models are not whole bfloat16 / float16 models on one GPU, and builds without
 * CUDA (where the call only records the settings). A capture that fails turns graphs off for the
 * group (rast_group_info says why) and the step runs eagerly. Calling it again drops the graphs.
 * Errors: RAST_E_INVALID_ARGUMENT (bad JSON or values). */
int32_t rast_group_configure(rast_group *g, const char *options_json);

/* The group's facts as JSON: {"graphs":{"enabled":bool,"maxBatch":N,"maxSeqLen":N,
 * "captured":[buckets],"disabled":"why graphs stopped"|null},"steps":{"resampled":N,"rerun":N}}
 * (steps: of the steps waited for so far, those whose top-p nucleus outgrew the prefilter and
 * were resampled with the full sort, and those run again: a pipelined step fed a corrected
 * token, or a graph's step whose logits a later replay had rewritten). Buffer rules of
 * rast_runtime_info. */
int32_t rast_group_info(rast_group *g, char *buf, int64_t cap, int64_t *len);

/* For the step debugger: row `row` of the last step's logits of one model, float32.
 * which: 0 base [base vocab], 1 combined [base vocab], 2+2i positive i, 3+2i negative i
 * [that model's vocab]. out must hold that many floats; *len receives the count. */
int32_t rast_group_last_logits(rast_group *g, int32_t which, int32_t row, float *out,
                               int64_t cap, int64_t *len);

/* What the last rast_group_step cost: forward_ns in the models' forward passes, sample_ns in the
 * combine, sampling and statistics with their copies out, and the models' rast_forward_stats
 * summed in `models`. graph_batch: the bucket of the CUDA graph the step replayed (0: eager);
 * a replay is one launch, so all of it counts in forward_ns. */
typedef struct rast_step_stats {
  int64_t forward_ns;
  int64_t sample_ns;
  rast_forward_stats models;
  int64_t graph_batch;
} rast_step_stats;
int32_t rast_group_last_stats(rast_group *g, rast_step_stats *out);

/* ---- Ranks that are processes (torchrun, srun), on one node or several ----
 * Every process runs the same program and calls rast_world_join, which reads torchrun's
 * environment: WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, and RAST_WORLD_TIMEOUT
 * (seconds any rank waits for the others to arrive, or at a collective; default 300),
 * TORCHELASTIC_USE_AGENT_STORE=True (torchrun's agent hosts the store), GLOO_SOCKET_IFNAME (the
 * network interface Gloo uses). Rank 0 then makes every call as usual: rast_model_load with
 * tensorParallel equal to WORLD_SIZE splits that model across the processes (NCCL between GPUs,
 * each rank on cuda:LOCAL_RANK, or cuda:0 where it sees one GPU; Gloo between CPUs), and each
 * call on such a model (cache set-up, block copies, forward, a group's prefill and step, free)
 * is sent to the other ranks, which run their part inside rast_world_follow. tensorParallel 1
 * keeps a model on rank 0 alone; other sizes are refused. The other ranks make no other call.
 * A rank lost during a call (it died, or RAST_WORLD_TIMEOUT passed) fails that call and every
 * later one with RAST_E_BACKEND and one line naming the rank and its error. */

/* The message of the last failed rast_world_* call in this process ("" if none). */
const char *rast_world_error(void);

/* Joins the world: rank 0 hosts a c10d TCPStore at MASTER_ADDR:MASTER_PORT and every rank
 * waits for all WORLD_SIZE ranks. WORLD_SIZE unset or 1 joins nothing (a world of one). Writes
 * {"rank":r,"world":n,"localRank":l} (buffer rules of rast_runtime_info). Once per process.
 * Errors: RAST_E_INVALID_ARGUMENT (the environment), RAST_E_BACKEND (the rendezvous failed or
 * timed out), RAST_E_UNSUPPORTED (a build without Gloo). */
int32_t rast_world_join(char *buf, int64_t cap, int64_t *len);

/* Ranks other than 0: runs their part of rank 0's calls until rank 0 calls rast_world_close,
 * whose exit_code it hands over in *exit_code. RAST_E_BACKEND when rank 0 goes away first; a
 * failure of this rank's own part ends it with that failure's code (rank 0 names it). */
int32_t rast_world_follow(int32_t *exit_code);

/* Rank 0: ends the followers' rast_world_follow with exit_code. A no-op in a world of one, on
 * other ranks and once the world is closed or lost. */
int32_t rast_world_close(int32_t exit_code);

#ifdef __cplusplus
}
#endif

#endif /* RAST_H */
