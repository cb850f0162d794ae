// The transformer: weights (one rank's shard), the rope tables and the KV cache, and the one
// forward entry point used for prefill and decode alike.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config.h"

struct rast_batch;  // rast.h

namespace rast {

// Which slice of the model this instance holds: Megatron-style tensor parallelism.
struct Shard {
  int rank = 0;
  int world = 1;
};

struct LayerWeights {
  at::Tensor ln1, ln2;          // [H]
  at::Tensor wqkv, bqkv;        // [(hq + 2 hkv) * D, H], [(hq + 2 hkv) * D] (this rank's heads)
  at::Tensor wo, bo;            // [H, hq * D] (this rank's input columns)
  at::Tensor q_norm, k_norm;    // [D] (Qwen3)
  at::Tensor w_gate_up;         // [2 I/world, H]
  at::Tensor b_gate_up;         // [2 I/world] (Llama mlp_bias)
  at::Tensor w_down, b_down;    // [H, I/world]
};

struct Weights {
  at::Tensor embed;    // [V/world, H] rows of this rank's vocab slice
  at::Tensor norm;     // [H]
  at::Tensor lm_head;  // [V/world, H] (the embedding when tied)
  std::vector<LayerWeights> layers;
  int64_t parameters = 0;  // whole-model count, from the checkpoint
};

// The paged KV cache: a pool of blocks of block_size positions, addressed through the caller's
// block tables. Rows are flat so the flash kernel can view them as [blocks, block_size, hkv, D].
struct KvCache {
  std::vector<at::Tensor> k, v;  // per layer: [n_blocks * block_size, hkv, D] (+ 1 block on CUDA)
  int32_t n_blocks = 0;          // the blocks block tables may name; on CUDA block n_blocks is scratch
  int32_t block_size = 0;
};

// Collectives across ranks (identity when world == 1); tensor_parallel.cpp provides them.
using AllReduce = std::function<void(at::Tensor &)>;
using AllGather = std::function<at::Tensor(const at::Tensor &, int64_t dim)>;

struct Model {
  std::string dir;
  ModelConfig cfg;
  Shard shard;
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
  Weights w;
  KvCache cache;
  at::Tensor inv_freq;     // [D/2] float32 on the device: rope angles are position * inv_freq
  bool deterministic = false;  // batch-invariant arithmetic (rast.h, rast_model_load)
  bool fused_kernels = true;   // the shim's CUDA kernels where they apply (cuda_kernels.h)
  bool random_weights = false; // drawn on the device from config.json alone (benchmarks)
  int64_t heads_local = 0, kv_heads_local = 0;  // this rank's attention heads
  int64_t kv_head_offset = 0;                   // first KV head held here
  AllReduce all_reduce = [](at::Tensor &) {};
  AllGather all_gather = [](const at::Tensor &t, int64_t) { return t; };
};

// weights.cpp: reads and checks every tensor for this shard.
void weights_load(Model &m);
// Refuses a split the model's shape does not allow, in one line naming the sizes that work.
void shard_check(const ModelConfig &cfg, const std::string &dir, int world);

// cache.cpp: (re)allocates the block pool; copies blocks (copy on write).
void cache_init(Model &m, int32_t n_blocks, int32_t block_size);
void cache_copy_blocks(Model &m, const at::Tensor &src, const at::Tensor &dst);  // [n] int64
int64_t cache_bytes(const Model &m);
int64_t kv_bytes_per_position(const Model &m);  // this rank's layers and KV heads
at::Tensor rope_inv_freq(const ModelConfig &cfg);  // [D/2] float32, HF's formula per rope type

// One batch step, laid out on the device from the caller's ragged arrays and block tables.
// The same input serves every model whose pool has the same block size (a group's models).
struct StepInput {
  int64_t n_seqs = 0, n_tokens = 0;  // B sequences, N = sum(seq_lens) tokens
  int32_t block_size = 0;
  at::Tensor tokens;     // [N] int64, packed, no padding
  at::Tensor positions;  // [N] int64
  at::Tensor write_rows; // [N] int64, the cache row (block * block_size + offset) of each token
  at::Tensor rows;       // [R] int64, token indices whose logits are wanted
  bool decode = false;   // every sequence brings one token
  // Packed attention (decode, and every query in deterministic mode): for each query token, the
  // cache rows it attends to, concatenated; no padding, so exactly the live KV is read.
  bool packed = false;
  at::Tensor kv_rows;    // [S] int64 cache rows, S = sum over queries of (position + 1)
  at::Tensor kv_query;   // [S] int64, the query token each key row belongs to
  // Per-sequence attention (prefill): its tokens [q_start, q_start + q_len) and its keys.
  std::vector<int64_t> q_start, q_len, kv_len;
  std::vector<at::Tensor> seq_kv_rows;  // [kv_len] int64 each
  at::Tensor block_table;               // [B, max_blocks] int32 (flash's paged path)
  at::Tensor seqused_k, cu_seqlens_q, cu_seqlens_k;  // [B] / [B+1] int32 (flash)
  int64_t max_q = 0, max_k = 0;
  int64_t kv_positions = 0;  // positions attended to, all sequences (the live KV)
  int64_t kv_reads = 0;      // cache rows attention reads
  std::shared_ptr<void> host;  // the host arrays the CPU tensors view
  // The caller's batch it was laid out from (valid during the call) and its logits mode: what
  // rank 0 sends to ranks that are other processes, which lay it out themselves.
  const rast_batch *batch = nullptr;
  int32_t logits_mode = 0;
};

// model.cpp: the forward pass; returns logits [R, V] in float32 (full vocab on every rank).
at::Tensor model_forward(Model &m, const StepInput &in);

}  // namespace rast
