// Reads a checkpoint into this rank's weights, checking every shape against config.json.
// Column-parallel (q/k/v, gate/up) weights keep this rank's output rows; row-parallel (o, down)
// keep its input columns; embeddings and lm_head keep a vocab slice.
#include <cmath>
#include <optional>
#include <set>

#include "checkpoint.h"
#include "error.h"
#include "model.h"

namespace rast {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Why `world` ranks cannot share this model ("" when they can).
std::string split_problem(const ModelConfig &c, int64_t world) {
  if (c.heads % world != 0)
    return "its " + std::to_string(c.heads) + " attention heads do not divide by " +
           std::to_string(world);
  if (c.kv_heads % world != 0 && world % c.kv_heads != 0)
    return "its " + std::to_string(c.kv_heads) + " KV heads neither divide by " +
           std::to_string(world) + " nor into it";
  if (c.intermediate % world != 0)
    return "its intermediate_size " + std::to_string(c.intermediate) + " does not divide by " +
           std::to_string(world);
  return "";
}

}  // namespace

void shard_check(const ModelConfig &c, const std::string &dir, int world) {
  if (world < 1)
    fail(RAST_E_INVALID_ARGUMENT, "Tensor-parallel size " + std::to_string(world) +
                                      " must be at least 1");
  std::string problem = split_problem(c, world);
  if (problem.empty()) return;
  std::vector<std::string> sizes;  // every size that splits evenly (1 always does)
  for (int64_t n = 1; n <= c.heads; n++)
    if (split_problem(c, n).empty()) sizes.push_back(std::to_string(n));
  std::string list;  // "1, 2 or 6"
  for (size_t i = 0; i < sizes.size(); i++)
    list += (i == 0 ? "" : i + 1 == sizes.size() ? " or " : ", ") + sizes[i];
  fail(RAST_E_UNSUPPORTED, "Cannot split \"" + dir + "\" across " + std::to_string(world) +
                               " ranks: " + problem + "; pick a tensor-parallel size of " + list);
}

void weights_load(Model &m) {
  const ModelConfig &c = m.cfg;
  const int world = m.shard.world, rank = m.shard.rank;
  shard_check(c, m.dir, world);
  // Random weights (rast_model_load's randomWeights, for benchmarks of real shapes without a
  // download): drawn on the device, N(0, 1/hidden) as the repository's random checkpoints (the
  // output matrix wider, below), norms 1; the same draw for the same config.
  std::optional<Checkpoint> ckpt;
  if (!m.random_weights) ckpt.emplace(m.dir);
  else at::manual_seed(0);
  auto opts = at::TensorOptions().dtype(m.dtype).device(m.device);
  const int64_t H = c.hidden, D = c.head_dim, I = c.intermediate, V = c.vocab;

  m.heads_local = c.heads / world;
  // KV heads are divided when they can be, else each rank keeps the one its query heads use.
  if (c.kv_heads % world == 0) {
    m.kv_heads_local = c.kv_heads / world;
    m.kv_head_offset = rank * m.kv_heads_local;
  } else {
    m.kv_heads_local = 1;
    m.kv_head_offset = rank / (world / c.kv_heads);
  }
  const int64_t hq = m.heads_local, hkv = m.kv_heads_local, I_local = I / world;
  const int64_t V_local = ceil_div(V, world), v_start = std::min(V, rank * V_local);
  const int64_t v_len = std::min(V, v_start + V_local) - v_start;

  std::set<std::string> used;
  int64_t drawn = 0;  // parameters of the random model
  auto get = [&](const std::string &name, std::vector<int64_t> shape, int64_t dim = -1,
                 int64_t start = 0, int64_t len = 0) {
    used.insert(name);
    if (ckpt) return ckpt->load(name, shape, opts, dim, start, len);
    int64_t whole = 1;
    for (int64_t d : shape) whole *= d;
    drawn += whole;
    if (dim >= 0) shape[dim] = len;
    if (name.find("norm.weight") != std::string::npos) return at::ones(shape, opts);
    // The output matrix 8 times wider, so next-token distributions are peaked like a trained
    // model's: a near-uniform one sends every top-p step down the whole-vocab sort.
    const bool output = name == "lm_head.weight" ||
                        (c.tied_embeddings && name == "model.embed_tokens.weight");
    return at::randn(shape, opts) * ((output ? 8.0 : 1.0) / std::sqrt(static_cast<double>(H)));
  };
  auto pad_rows = [&](at::Tensor t) {  // the last vocab slice may be short: pad with zeros
    if (t.size(0) == V_local) return t;
    return at::cat({t, at::zeros({V_local - t.size(0), t.size(1)}, opts)}, 0);
  };

  m.w.embed = pad_rows(get("model.embed_tokens.weight", {V, H}, 0, v_start, v_len));
  m.w.norm = get("model.norm.weight", {H});
  if (c.tied_embeddings) {
    m.w.lm_head = m.w.embed;
    used.insert("lm_head.weight");  // some tied checkpoints still carry a copy; HF ignores it
  } else {
    if (ckpt && !ckpt->has("lm_head.weight"))
      fail(RAST_E_FORMAT, "\"" + m.dir + "\" has no lm_head.weight but config.json says "
                          "tie_word_embeddings is false; the checkpoint is incomplete");
    m.w.lm_head = pad_rows(get("lm_head.weight", {V, H}, 0, v_start, v_len));
  }

  for (int64_t l = 0; l < c.layers; l++) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights L;
    L.ln1 = get(p + "input_layernorm.weight", {H});
    L.ln2 = get(p + "post_attention_layernorm.weight", {H});
    std::string a = p + "self_attn.";
    at::Tensor q = get(a + "q_proj.weight", {c.heads * D, H}, 0, rank * hq * D, hq * D);
    at::Tensor k = get(a + "k_proj.weight", {c.kv_heads * D, H}, 0, m.kv_head_offset * D, hkv * D);
    at::Tensor v = get(a + "v_proj.weight", {c.kv_heads * D, H}, 0, m.kv_head_offset * D, hkv * D);
    L.wqkv = at::cat({q, k, v}, 0);
    if (c.qkv_bias) {
      at::Tensor qb = get(a + "q_proj.bias", {c.heads * D}, 0, rank * hq * D, hq * D);
      at::Tensor kb = get(a + "k_proj.bias", {c.kv_heads * D}, 0, m.kv_head_offset * D, hkv * D);
      at::Tensor vb = get(a + "v_proj.bias", {c.kv_heads * D}, 0, m.kv_head_offset * D, hkv * D);
      L.bqkv = at::cat({qb, kb, vb}, 0);
    }
    L.wo = get(a + "o_proj.weight", {H, c.heads * D}, 1, rank * hq * D, hq * D);
    if (c.o_bias && rank == 0) L.bo = get(a + "o_proj.bias", {H});  // added once, before the sum
    if (c.o_bias) used.insert(a + "o_proj.bias");
    if (c.qk_norm) {
      L.q_norm = get(a + "q_norm.weight", {D});
      L.k_norm = get(a + "k_norm.weight", {D});
    }
    std::string f = p + "mlp.";
    at::Tensor gate = get(f + "gate_proj.weight", {I, H}, 0, rank * I_local, I_local);
    at::Tensor up = get(f + "up_proj.weight", {I, H}, 0, rank * I_local, I_local);
    L.w_gate_up = at::cat({gate, up}, 0);
    L.w_down = get(f + "down_proj.weight", {H, I}, 1, rank * I_local, I_local);
    if (c.mlp_bias) {
      L.b_gate_up = at::cat({get(f + "gate_proj.bias", {I}, 0, rank * I_local, I_local),
                             get(f + "up_proj.bias", {I}, 0, rank * I_local, I_local)});
      if (rank == 0) L.b_down = get(f + "down_proj.bias", {H});
      used.insert(f + "down_proj.bias");
    }
    m.w.layers.push_back(std::move(L));
  }

  m.w.parameters = drawn;
  if (!ckpt) return;
  for (const auto &[name, t] : ckpt->tensors()) {
    bool harmless = name.find("rotary_emb.inv_freq") != std::string::npos;
    if (!used.count(name) && !harmless)
      fail(RAST_E_FORMAT, "Tensor \"" + name + "\" in \"" + m.dir + "/" + t.file +
                              "\" is not part of a " + c.arch_name + " with this config.json; "
                              "the checkpoint and config do not match");
    if (harmless || (name == "lm_head.weight" && c.tied_embeddings)) continue;
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    m.w.parameters += n;
  }
}

}  // namespace rast
