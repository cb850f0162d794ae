// CUDA graphs for decode steps (decode_graphs.h). Without CUDA every step is eager and only the
// settings are kept.
#include "decode_graphs.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "group.h"
#include "json.h"

#ifdef RAST_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace rast {

GraphSettings parse_graph_settings(const char *options_json) {
  GraphSettings s;
  if (!options_json || !*options_json) return s;
  const Json j = parse_options(options_json, "Group options");
  read_bool_option(j, "cudaGraphs", s.enabled);
  if (!j["deviceFeed"].is_null()) {
    bool on = false;
    read_bool_option(j, "deviceFeed", on);
    s.device_feed = on ? 1 : 0;
  }
  auto whole = [&](const char *key, int32_t &out) {
    const Json &v = j[key];
    if (v.is_null()) return;
    if (v.kind != Json::Number || v.num < 1 || v.num > (1 << 30) || v.num != static_cast<int32_t>(v.num))
      fail(RAST_E_INVALID_ARGUMENT, std::string(key) + " must be a whole number of at least 1");
    out = static_cast<int32_t>(v.num);
  };
  whole("maxBatch", s.max_batch);
  whole("maxSeqLen", s.max_seq_len);
  if (s.enabled && (s.max_batch == 0 || s.max_seq_len == 0))
    fail(RAST_E_INVALID_ARGUMENT, "cudaGraphs needs maxBatch and maxSeqLen (the largest batch "
                                  "and the longest sequence the graphs serve)");
  return s;
}

#ifdef RAST_CUDA

namespace {

// The smallest bucket of at least n sequences (1, 2, 4, 8, 16, 24, ...), 0 past the largest.
int64_t bucket_of(int64_t n, int64_t max_batch) {
  auto round_up = [](int64_t k) {
    if (k <= 8) {
      int64_t b = 1;
      while (b < k) b *= 2;
      return b;
    }
    return (k + 7) / 8 * 8;
  };
  return n <= round_up(max_batch) ? round_up(n) : 0;
}

// One bucket's graph, its static inputs and the outputs it writes on every replay.
struct Graph {
  int64_t B = 0, W = 0;   // sequences, block table width
  at::Tensor host, dev;   // [L] int64: pinned staging and its device copy, laid out as
                          // tokens | positions | KV rows | uniforms (float64 bits) | feed | int32
                          // area: block table [B, W] | keys per sequence [B] | their prefix sums
  at::cuda::CUDAEvent staged;  // the staging buffer's last copy: refill only once it has run
  std::shared_ptr<uint64_t> replays = std::make_shared<uint64_t>(0);
  at::Tensor rows, cu_q;  // constants: [B] int64 0..B-1, [B + 1] int32 0..B
  StepInput in;
  at::Tensor uniforms;    // [B] float64, a view of dev
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  DeviceStep out;
};

using Key = std::tuple<int64_t, float, float, int32_t, int32_t, bool>;

Key key_of(int64_t bucket, const SamplingParams &p) {
  return {bucket, p.temperature, p.top_p, p.top_k, p.stats_k, p.want_stats};
}

}  // namespace

struct DecodeGraphs::Impl {
  GraphSettings settings;
  std::map<Key, std::unique_ptr<Graph>> graphs;
  std::vector<const void *> pools;  // each model's first K pool when the graphs were captured
  int32_t block_size = 0;
  std::optional<c10::cuda::CUDAStream> stream;  // captures and replays run here
  c10::cuda::MempoolId_t mempool{0, 0};          // shared by all graphs: replays never overlap
  std::string disabled;                          // why capture failed; then every step is eager

  std::unique_ptr<Graph> make(int64_t B, int64_t W, int32_t bs, const at::Device &device) {
    auto gr = std::make_unique<Graph>();
    gr->B = B;
    gr->W = W;
    const int64_t ints = B * W + 2 * B + 1, L = 5 * B + (ints + 1) / 2;
    auto longs = at::TensorOptions().dtype(at::kLong).device(device);
    gr->host = at::zeros({L}, at::TensorOptions().dtype(at::kLong).pinned_memory(true));
    gr->dev = at::zeros({L}, longs);
    gr->rows = at::arange(B, longs);
    gr->cu_q = at::arange(B + 1, longs.dtype(at::kInt));
    StepInput &in = gr->in;
    in.n_seqs = in.n_tokens = B;
    in.block_size = bs;
    in.decode = in.packed = true;
    in.logits_mode = RAST_LOGITS_LAST;
    in.tokens = gr->dev.narrow(0, 0, B);
    in.positions = gr->dev.narrow(0, B, B);
    in.write_rows = gr->dev.narrow(0, 2 * B, B);
    in.rows = gr->rows;
    gr->uniforms = gr->dev.narrow(0, 3 * B, B).view(at::kDouble);
    at::Tensor area = gr->dev.narrow(0, 5 * B, L - 5 * B).view(at::kInt);
    in.block_table = area.narrow(0, 0, B * W).view({B, W});
    in.seqused_k = area.narrow(0, B * W, B);
    in.cu_seqlens_k = area.narrow(0, B * W + B, B + 1);
    in.cu_seqlens_q = gr->cu_q;
    in.max_q = 1;
    in.max_k = W * bs;  // flash sizes its split of the keys by this; each row reads its own count
    return gr;
  }

  // Lays the batch out in the staging buffer; rows n.. pad with the scratch block. Returns
  // whether any row is fed from the step before.
  static bool fill(Graph &gr, const rast_batch *batch, const uint64_t *seeds,
                   const int32_t *feed, int32_t bs, int32_t scratch) {
    const int64_t B = gr.B, W = gr.W, n = batch->n_seqs, Wc = batch->max_blocks;
    gr.staged.synchronize();  // a launch before this one may still be copying from it
    int64_t *h = gr.host.data_ptr<int64_t>();
    int32_t *table = reinterpret_cast<int32_t *>(h + 5 * B), *used = table + B * W,
            *cu_k = used + B;
    std::fill(table, table + B * W, 0);
    cu_k[0] = 0;
    bool fed = false;
    for (int64_t i = 0; i < B; i++) {
      int64_t token = 0, pos = 0, row = int64_t(scratch) * bs;
      double u = 0.0;
      if (i < n) {
        token = batch->tokens[i];
        pos = batch->start_pos[i];
        std::memcpy(table + i * W, batch->block_table + i * Wc, sizeof(int32_t) * (pos / bs + 1));
        row = int64_t(table[i * W + pos / bs]) * bs + pos % bs;
        u = seeded_uniform(seeds[i], pos + 1);
      } else {
        table[i * W] = scratch;
      }
      h[i] = token;
      h[B + i] = pos;
      h[2 * B + i] = row;
      std::memcpy(&h[3 * B + i], &u, sizeof u);
      h[4 * B + i] = i < n && feed ? feed[i] : -1;
      fed = fed || h[4 * B + i] >= 0;
      used[i] = static_cast<int32_t>(pos + 1);
      cu_k[i + 1] = cu_k[i] + used[i];
    }
    return fed;
  }

  // The step's body in capture, with the stream left out of capture mode whatever happens.
  void capture(Graph &gr, rast_group *g, const SamplingParams &p) {
    gr.out = group_device_step(g, gr.in, gr.uniforms, p, nullptr);  // warm-up, outside: cuBLAS
    // and flash workspaces, the rope tables
    gr.graph = std::make_unique<at::cuda::CUDAGraph>();
    try {
      // Thread-local capture: a wait for the step before may synchronise on its event from
      // another thread meanwhile (rast_group_step_wait), which global capture would forbid.
      gr.graph->capture_begin(mempool, cudaStreamCaptureModeThreadLocal);
      gr.out = group_device_step(g, gr.in, gr.uniforms, p, nullptr);
      gr.graph->capture_end();
    } catch (...) {
      cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
      cudaStreamIsCapturing(stream->stream(), &status);
      if (status != cudaStreamCaptureStatusNone) {
        cudaGraph_t partial = nullptr;
        cudaStreamEndCapture(stream->stream(), &partial);
        if (partial) cudaGraphDestroy(partial);
      }
      cudaGetLastError();  // the failed capture's error is reported by the throw below
      gr.graph.reset();
      throw;
    }
    if (mempool == c10::cuda::MempoolId_t{0, 0}) mempool = gr.graph->pool();
  }
};

DecodeGraphs::DecodeGraphs(const GraphSettings &settings) : impl_(std::make_unique<Impl>()) {
  impl_->settings = settings;
}

DecodeGraphs::~DecodeGraphs() = default;

const GraphSettings &DecodeGraphs::settings() const { return impl_->settings; }

int64_t DecodeGraphs::bucket_for(rast_group *g, const rast_batch *batch) const {
  const GraphSettings &s = impl_->settings;
  if (!s.enabled || !impl_->disabled.empty()) return 0;
  const Model &base = g->base->model;
  if (!base.device.is_cuda() || base.cache.n_blocks == 0) return 0;
  for (rast_model *h : g->models)
    if (h->tp || h->world_model > 0 || h->model.device != base.device || !flash_attends(h->model))
      return 0;
  for (int32_t i = 0; i < batch->n_seqs; i++)
    if (batch->seq_lens[i] != 1 || int64_t(batch->start_pos[i]) + 1 > s.max_seq_len) return 0;
  return bucket_of(batch->n_seqs, s.max_batch);
}

DeviceStep DecodeGraphs::launch(rast_group *g, const rast_batch *batch, const uint64_t *seeds,
                                 const int32_t *feed, const at::Tensor &fed_from,
                                 const SamplingParams &params, int64_t bucket,
                                 const std::function<void(const DeviceStep &)> &issued) {
  Impl &I = *impl_;
  const Model &base = g->base->model;
  const int32_t bs = base.cache.block_size;
  std::vector<const void *> pools;
  for (rast_model *h : g->models) pools.push_back(h->model.cache.k.at(0).data_ptr());
  if (pools != I.pools || bs != I.block_size) {  // a new pool: the graphs hold the old addresses
    I.graphs.clear();
    I.mempool = {0, 0};
    I.pools = pools;
    I.block_size = bs;
  }
  const auto index = static_cast<c10::DeviceIndex>(std::max<int>(0, base.device.index()));
  if (!I.stream) I.stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index);
  // The graphs' stream starts after what the caller's stream has issued (prefill, block copies).
  c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream(index);
  at::cuda::CUDAEvent ready, done;
  ready.record(caller);
  ready.block(*I.stream);
  DeviceStep out;
  {
    c10::cuda::CUDAStreamGuard guard(*I.stream);
    SamplingParams p = params;
    p.full_sort = false;
    auto &slot = I.graphs[key_of(bucket, p)];
    const bool fresh = !slot;
    if (fresh) slot = I.make(bucket, (I.settings.max_seq_len + bs - 1) / bs, bs, base.device);
    Graph &gr = *slot;
    const bool fed = Impl::fill(gr, batch, seeds, feed, bs, base.cache.n_blocks);
    gr.dev.copy_(gr.host, /*non_blocking=*/true);
    gr.staged.record(*I.stream);
    if (fed) {  // the fed rows' tokens from the step before's samples, still on the device
      const int64_t n = batch->n_seqs;
      at::Tensor rows = gr.dev.narrow(0, 4 * gr.B, n), tokens = gr.in.tokens.narrow(0, 0, n);
      tokens.copy_(with_fed_tokens(tokens, rows, fed_from));
    }
    if (fresh) {
      try {
        I.capture(gr, g, p);
      } catch (const std::exception &e) {
        I.disabled = std::string("capture of the ") + std::to_string(bucket) + "-sequence graph failed: " + e.what();
        I.graphs.erase(key_of(bucket, p));
        throw;
      }
    }
    gr.graph->replay();
    out = gr.out;
    out.replays = gr.replays;
    out.replay = ++*gr.replays;
    issued(out);
    done.record(*I.stream);
  }
  done.block(caller);
  return out;
}

std::string DecodeGraphs::info_json() const {
  const GraphSettings &s = impl_->settings;
  std::string captured;
  for (const auto &[key, graph] : impl_->graphs)
    captured += (captured.empty() ? "" : ",") + std::to_string(std::get<0>(key));
  return std::string("{\"enabled\":") + (s.enabled ? "true" : "false") +
         ",\"maxBatch\":" + std::to_string(s.max_batch) + ",\"maxSeqLen\":" +
         std::to_string(s.max_seq_len) + ",\"captured\":[" + captured + "],\"disabled\":" +
         (impl_->disabled.empty() ? "null" : json_quote(impl_->disabled)) + "}";
}

#else  // no CUDA: settings only

struct DecodeGraphs::Impl {
  GraphSettings settings;
};

DecodeGraphs::DecodeGraphs(const GraphSettings &settings) : impl_(std::make_unique<Impl>()) {
  impl_->settings = settings;
}

DecodeGraphs::~DecodeGraphs() = default;

const GraphSettings &DecodeGraphs::settings() const { return impl_->settings; }

int64_t DecodeGraphs::bucket_for(rast_group *, const rast_batch *) const { return 0; }

DeviceStep DecodeGraphs::launch(rast_group *, const rast_batch *, const uint64_t *,
                                 const int32_t *, const at::Tensor &, const SamplingParams &,
                                 int64_t, const std::function<void(const DeviceStep &)> &) {
  fail(RAST_E_UNSUPPORTED, "This build of the shim has no CUDA graphs");
}

std::string DecodeGraphs::info_json() const {
  const GraphSettings &s = impl_->settings;
  return std::string("{\"enabled\":") + (s.enabled ? "true" : "false") +
         ",\"maxBatch\":" + std::to_string(s.max_batch) + ",\"maxSeqLen\":" +
         std::to_string(s.max_seq_len) + ",\"captured\":[],\"disabled\":" +
         (s.enabled ? "\"this build of the shim has no CUDA\"" : "null") + "}";
}

#endif

}  // namespace rast
