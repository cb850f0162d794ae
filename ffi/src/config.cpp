#include "config.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "error.h"
#include "json.h"

namespace rast {
namespace {

std::string read_text(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(RAST_E_IO, "Cannot read \"" + path + "\": the file is missing or unreadable");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Rope settings: transformers-5 `rope_parameters` wins; else classic `rope_theta` + `rope_scaling`.
RopeConfig read_rope(const Json &cfg) {
  RopeConfig r;
  const Json &params = cfg["rope_parameters"];
  const Json &scaling = params.kind == Json::Object ? params : cfg["rope_scaling"];
  r.theta = json_number_or(params, "rope_theta", json_number_or(cfg, "rope_theta", 10000.0));
  if (scaling.kind == Json::Object) {
    r.type = json_string_or(scaling, "rope_type", json_string_or(scaling, "type", "default"));
    r.factor = json_number_or(scaling, "factor", 1.0);
    r.low_freq_factor = json_number_or(scaling, "low_freq_factor", 1.0);
    r.high_freq_factor = json_number_or(scaling, "high_freq_factor", 4.0);
    r.original_max_position = json_int_or(scaling, "original_max_position_embeddings", 8192);
  } else if (!scaling.is_null()) {
    fail(RAST_E_FORMAT, "rope_scaling must be an object or null");
  }
  if (r.type != "default" && r.type != "linear" && r.type != "llama3")
    fail(RAST_E_UNSUPPORTED, "Rope type \"" + r.type +
                                 "\" is not supported; rast runs default, linear and llama3 rope");
  if (!(r.theta > 0)) fail(RAST_E_FORMAT, "rope_theta must be positive");
  return r;
}

}  // namespace

ModelConfig config_load(const std::string &dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail(RAST_E_IO, "Model folder \"" + dir + "\" does not exist; pass a Hugging Face model folder");
  std::string path = dir + "/config.json";
  if (stat(path.c_str(), &st) != 0)
    fail(RAST_E_IO, "Cannot load \"" + dir + "\": config.json is missing; pass a Hugging Face model folder");
  Json cfg;
  try {
    cfg = json_parse(read_text(path));
  } catch (const Error &) {
    throw;
  } catch (const std::exception &e) {
    fail(RAST_E_FORMAT, "\"" + path + "\" is not valid JSON (" + e.what() +
                            "); restore the model's config.json");
  }
  if (cfg.kind != Json::Object) fail(RAST_E_FORMAT, "\"" + path + "\" is not a JSON object");

  ModelConfig c;
  try {
    const Json &archs = cfg["architectures"];
    std::string model_type = json_string_or(cfg, "model_type", "");
    auto by_class = [](const std::string &name, Arch &arch) {
      if (name == "Qwen2ForCausalLM") arch = Arch::Qwen2;
      else if (name == "LlamaForCausalLM") arch = Arch::Llama;
      else if (name == "Qwen3ForCausalLM") arch = Arch::Qwen3;
      else return false;
      return true;
    };
    auto by_type = [](const std::string &type, Arch &arch) {
      if (type == "qwen2") arch = Arch::Qwen2;
      else if (type == "llama") arch = Arch::Llama;
      else if (type == "qwen3") arch = Arch::Qwen3;
      else return false;
      return true;
    };
    const std::string supported =
        "; rast runs Qwen2ForCausalLM, LlamaForCausalLM and Qwen3ForCausalLM";
    bool named = archs.kind == Json::Array && !archs.arr.empty() && archs.arr[0].kind == Json::String;
    c.arch_name = named ? archs.arr[0].str : model_type;
    // The class names the weights' layout; a model_type naming another one means the config
    // was edited by hand or belongs to other weights, so neither can be trusted alone.
    if (named) {
      if (!by_class(c.arch_name, c.arch))
        fail(RAST_E_UNSUPPORTED,
             "Architecture \"" + c.arch_name + "\" in \"" + path + "\" is not supported" + supported);
      Arch typed;
      if (!model_type.empty() && (!by_type(model_type, typed) || typed != c.arch))
        fail(RAST_E_FORMAT, "\"" + path + "\" names architecture " + c.arch_name +
                                " but model_type \"" + model_type +
                                "\"; make them agree (the architecture the weights were made for)");
    } else if (!by_type(model_type, c.arch)) {
      fail(RAST_E_UNSUPPORTED,
           "Architecture \"" + c.arch_name + "\" in \"" + path + "\" is not supported" + supported);
    }

    c.vocab = json_int(cfg, "vocab_size");
    c.hidden = json_int(cfg, "hidden_size");
    c.intermediate = json_int(cfg, "intermediate_size");
    c.layers = json_int(cfg, "num_hidden_layers");
    c.heads = json_int(cfg, "num_attention_heads");
    c.kv_heads = json_int_or(cfg, "num_key_value_heads", c.heads);
    c.head_dim = json_int_or(cfg, "head_dim", c.heads > 0 ? c.hidden / c.heads : 0);
    c.max_positions = json_int_or(cfg, "max_position_embeddings", 32768);
    c.rms_eps = json_number_or(cfg, "rms_norm_eps", 1e-6);
    c.tied_embeddings = json_bool_or(cfg, "tie_word_embeddings", false);
    c.disk_dtype = json_string_or(cfg, "torch_dtype", json_string_or(cfg, "dtype", ""));
    std::string act = json_string_or(cfg, "hidden_act", "silu");
    if (act != "silu")
      fail(RAST_E_UNSUPPORTED, "hidden_act \"" + act + "\" is not supported; rast runs silu");
    if (c.arch == Arch::Qwen2) {
      c.qkv_bias = true;
    } else {
      c.qkv_bias = c.o_bias = json_bool_or(cfg, "attention_bias", false);
      c.mlp_bias = json_bool_or(cfg, "mlp_bias", false);
    }
    c.qk_norm = c.arch == Arch::Qwen3;
    if (c.arch != Arch::Llama && json_bool_or(cfg, "use_sliding_window", false))
      fail(RAST_E_UNSUPPORTED, "Sliding-window attention is not supported (use_sliding_window)");
    c.rope = read_rope(cfg);
  } catch (const Error &) {
    throw;
  } catch (const std::exception &e) {
    fail(RAST_E_FORMAT, "\"" + path + "\": " + e.what());
  }

  auto positive = [&](int64_t v, const char *name) {
    if (v <= 0) fail(RAST_E_FORMAT, "\"" + path + "\": " + name + " must be positive");
  };
  positive(c.vocab, "vocab_size");
  positive(c.hidden, "hidden_size");
  positive(c.intermediate, "intermediate_size");
  positive(c.layers, "num_hidden_layers");
  positive(c.heads, "num_attention_heads");
  positive(c.kv_heads, "num_key_value_heads");
  positive(c.head_dim, "head_dim");
  if (c.heads % c.kv_heads != 0)
    fail(RAST_E_FORMAT, "\"" + path + "\": num_attention_heads (" + std::to_string(c.heads) +
                            ") is not a multiple of num_key_value_heads (" +
                            std::to_string(c.kv_heads) + ")");
  if (c.head_dim % 2 != 0) fail(RAST_E_FORMAT, "\"" + path + "\": head_dim must be even");
  return c;
}

}  // namespace rast
