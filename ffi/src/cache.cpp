// The paged KV cache: per layer one pool of n_blocks * block_size rows, allocated once, so a
// step never allocates or concatenates; sequences reach their rows through block tables the
// caller owns. Also the rope frequencies (angles are computed per step from positions).
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

void cache_init(Model &m, int32_t n_blocks, int32_t block_size) {
  if (n_blocks <= 0 || block_size <= 0)
    fail(RAST_E_INVALID_ARGUMENT, "The KV pool needs at least one block of one position (blocks " +
                                      std::to_string(n_blocks) + ", block size " +
                                      std::to_string(block_size) + ")");
  if (m.device.is_cuda() && block_size % 256 != 0)
    fail(RAST_E_INVALID_ARGUMENT, "Block size " + std::to_string(block_size) +
                                      " does not suit the flash kernel's paged path on CUDA; "
                                      "use a multiple of 256");
  if (m.cache.n_blocks == n_blocks && m.cache.block_size == block_size) return;  // set up
  m.cache = KvCache{};
  // On a GPU one more block than asked, which no block table names: the rows that pad a batch
  // up to its CUDA graph's bucket write their K/V there (decode_graphs.cpp).
  const int64_t rows = (int64_t(n_blocks) + (m.device.is_cuda() ? 1 : 0)) * block_size;
  auto opts = at::TensorOptions().dtype(m.dtype).device(m.device);
  for (int64_t l = 0; l < m.cfg.layers; l++) {
    // Zeroed, so rows never written are finite (no kernel reads them, but a stale NaN would
    // survive a bad block table silently).
    m.cache.k.push_back(at::zeros({rows, m.kv_heads_local, m.cfg.head_dim}, opts));
    m.cache.v.push_back(at::zeros({rows, m.kv_heads_local, m.cfg.head_dim}, opts));
  }
  m.cache.n_blocks = n_blocks;
  m.cache.block_size = block_size;
}

void cache_copy_blocks(Model &m, const at::Tensor &src, const at::Tensor &dst) {
  if (m.cache.n_blocks == 0)
    fail(RAST_E_CAPACITY, "The KV cache is not set up; call rast_cache_init first");
  const int64_t bs = m.cache.block_size;
  // rows: [n * bs] = block * bs + offset, for source and destination blocks alike.
  at::Tensor offsets = at::arange(bs, src.options());
  at::Tensor from = (src.unsqueeze(1) * bs + offsets).reshape(-1);
  at::Tensor to = (dst.unsqueeze(1) * bs + offsets).reshape(-1);
  for (size_t l = 0; l < m.cache.k.size(); l++) {
    m.cache.k[l].index_copy_(0, to, m.cache.k[l].index_select(0, from));
    m.cache.v[l].index_copy_(0, to, m.cache.v[l].index_select(0, from));
  }
}

int64_t cache_bytes(const Model &m) {
  int64_t total = 0;
  for (size_t l = 0; l < m.cache.k.size(); l++)
    total += (m.cache.k[l].numel() + m.cache.v[l].numel()) * m.cache.k[l].element_size();
  return total;
}

int64_t kv_bytes_per_position(const Model &m) {
  return 2 * m.cfg.layers * m.kv_heads_local * m.cfg.head_dim *
         static_cast<int64_t>(c10::elementSize(m.dtype));
}

}  // namespace rast
