// The KV cache: fixed-shape buffers indexed by (slot, position), allocated once, so a decode
// step never allocates or concatenates; plus the rope tables sized to the cache.
#include <cmath>

#include "error.h"
#include "model.h"

namespace rast {

at::Tensor rope_inv_freq(const ModelConfig &cfg) {
  const RopeConfig &r = cfg.rope;
  const int64_t D = cfg.head_dim;
  // HF: 1 / theta^(arange(0, D, 2) / D), in float32.
  at::Tensor exponent = at::arange(0, D, 2, at::kLong).to(at::kFloat) / static_cast<float>(D);
  at::Tensor inv_freq = 1.0 / at::pow(static_cast<float>(r.theta), exponent);
  if (r.type == "linear") return inv_freq / static_cast<float>(r.factor);
  if (r.type != "llama3") return inv_freq;
  // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, the band between blended.
  const double old_ctx = static_cast<double>(r.original_max_position);
  const double low_wavelen = old_ctx / r.low_freq_factor;
  const double high_wavelen = old_ctx / r.high_freq_factor;
  at::Tensor wavelen = 2 * M_PI / inv_freq;
  at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / r.factor, inv_freq);
  at::Tensor smooth = (old_ctx / wavelen - r.low_freq_factor) /
                      (r.high_freq_factor - r.low_freq_factor);
  at::Tensor smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
  at::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return at::where(medium, smoothed, scaled).to(at::kFloat);
}

void cache_init(Model &m, int32_t slots, int32_t max_len) {
  if (slots <= 0 || max_len <= 0)
    fail(RAST_E_INVALID_ARGUMENT, "Cache size must be positive (slots " + std::to_string(slots) +
                                      ", max_len " + std::to_string(max_len) + ")");
  if (m.cache.slots == slots && m.cache.max_len == max_len) return;  // already set up
  m.cache = KvCache{};
  auto opts = at::TensorOptions().dtype(m.dtype).device(m.device);
  for (int64_t l = 0; l < m.cfg.layers; l++) {
    // Zeroed, so positions not yet written are finite even where a padded query peeks at them.
    m.cache.k.push_back(at::zeros({slots, m.kv_heads_local, max_len, m.cfg.head_dim}, opts));
    m.cache.v.push_back(at::zeros({slots, m.kv_heads_local, max_len, m.cfg.head_dim}, opts));
  }
  // cos/sin: [max_len, D], HF layout cat(freqs, freqs), computed in float32 like HF.
  at::Tensor pos = at::arange(max_len, at::kLong).to(at::kFloat);
  at::Tensor freqs = at::outer(pos, rope_inv_freq(m.cfg));
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  m.cache.rope_cos = emb.cos().to(m.device);
  m.cache.rope_sin = emb.sin().to(m.device);
  m.cache.slots = slots;
  m.cache.max_len = max_len;
}

void cache_copy(Model &m, int32_t src, int32_t dst, int32_t len) {
  if (m.cache.slots == 0) fail(RAST_E_CAPACITY, "The KV cache is not set up; call cache_init first");
  if (src < 0 || dst < 0 || src >= m.cache.slots || dst >= m.cache.slots || len < 0 ||
      len > m.cache.max_len)
    fail(RAST_E_INVALID_ARGUMENT, "cache_copy(" + std::to_string(src) + ", " +
                                      std::to_string(dst) + ", " + std::to_string(len) +
                                      ") is out of range");
  if (src == dst || len == 0) return;
  for (size_t l = 0; l < m.cache.k.size(); l++) {
    m.cache.k[l][dst].narrow(1, 0, len).copy_(m.cache.k[l][src].narrow(1, 0, len));
    m.cache.v[l][dst].narrow(1, 0, len).copy_(m.cache.v[l][src].narrow(1, 0, len));
  }
}

int64_t cache_bytes(const Model &m) {
  int64_t total = 0;
  for (size_t l = 0; l < m.cache.k.size(); l++)
    total += (m.cache.k[l].numel() + m.cache.v[l].numel()) * m.cache.k[l].element_size();
  return total;
}

}  // namespace rast
