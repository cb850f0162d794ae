// A model's shape, read from a Hugging Face config.json in either form (transformers-5
// `rope_parameters`, or the classic top-level `rope_theta` / `rope_scaling`).
#pragma once

#include <cstdint>
#include <string>

namespace rast {

enum class Arch { Qwen2, Llama, Qwen3 };

struct RopeConfig {
  std::string type = "default";  // default | linear | llama3
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position = 8192;
};

struct ModelConfig {
  Arch arch = Arch::Qwen2;
  std::string arch_name;  // as in config.json, e.g. "Qwen2ForCausalLM"
  int64_t vocab = 0;
  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_positions = 0;
  double rms_eps = 1e-6;
  bool tied_embeddings = false;
  bool qkv_bias = false;   // Qwen2: true; Llama: attention_bias
  bool o_bias = false;     // Llama attention_bias also puts a bias on o_proj
  bool mlp_bias = false;   // Llama mlp_bias
  bool qk_norm = false;    // Qwen3
  std::string disk_dtype;  // "bfloat16" etc. from config (informational)
  RopeConfig rope;
};

// Reads and validates <dir>/config.json; throws rast::Error with code and message.
ModelConfig config_load(const std::string &dir);

}  // namespace rast
