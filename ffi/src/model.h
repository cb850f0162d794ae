// The transformer: weights (one rank's shard), the rope tables and the KV cache, and the one
// forward entry point used for prefill and decode alike.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "config.h"

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

struct KvCache {
  std::vector<at::Tensor> k, v;  // per layer: [slots, hkv, max_len, D]
  int32_t slots = 0;
  int32_t max_len = 0;
  at::Tensor rope_cos, rope_sin;  // [max_len, D] float32
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
  int64_t heads_local = 0, kv_heads_local = 0;  // this rank's attention heads
  int64_t kv_head_offset = 0;                   // first KV head held here
  AllReduce all_reduce = [](at::Tensor &) {};
  AllGather all_gather = [](const at::Tensor &t, int64_t) { return t; };
};

// weights.cpp: reads and checks every tensor for this shard.
void weights_load(Model &m);
// Refuses a split the model's shape does not allow, in one line naming the sizes that work.
void shard_check(const ModelConfig &cfg, const std::string &dir, int world);

// cache.cpp: (re)allocates the KV cache and rope tables; copies a slot's prefix.
void cache_init(Model &m, int32_t slots, int32_t max_len);
void cache_copy(Model &m, int32_t src, int32_t dst, int32_t len);
int64_t cache_bytes(const Model &m);
at::Tensor rope_inv_freq(const ModelConfig &cfg);  // [D/2] float32, HF's formula per rope type

// One batch step input, prepared on the host from the caller's ragged arrays.
struct StepInput {
  at::Tensor tokens;     // [B, T] int64 (padding: 0)
  at::Tensor positions;  // [B, T] int64 (padding: clamped, never written)
  at::Tensor slots;      // [B] int64
  at::Tensor valid;      // [N] int64, flat indices b*T+t of real tokens
  at::Tensor valid_slot, valid_pos;  // [N] int64, where each real token's K/V goes
  at::Tensor rows;       // [R] int64, flat indices whose logits are wanted
  int64_t kv_len = 0;    // attend over cache positions [0, kv_len)
  // Attention reads the cache without copying it when the batch's slots lie in a short run
  // [attn_lo, attn_lo + A): it works on those A cache rows as a view, with this batch's queries
  // scattered to rows attn_rows (undefined: rows are the batch itself, in order). Otherwise
  // (attn_lo -1) the batch's slots are gathered, positions [0, kv_len) only.
  int64_t attn_lo = -1;
  at::Tensor attn_rows;       // [B] int64, slot - attn_lo
  at::Tensor attn_positions;  // [A, T] int64: positions per attention row (idle rows: see all)
};

// model.cpp: the forward pass; returns logits [R, V] in float32 (full vocab on every rank).
at::Tensor model_forward(Model &m, const StepInput &in);

}  // namespace rast
