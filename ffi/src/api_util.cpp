// Shared plumbing of the C ABI: error capture, option parsing, info JSON, and turning the
// caller's ragged arrays into one padded batch step.
#include "api_util.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <ATen/record_function.h>
#include <unistd.h>
#ifdef RAST_CUDA
#include <cuda_runtime_api.h>
#endif

#include "json.h"

#ifndef RAST_TORCH_VERSION
#define RAST_TORCH_VERSION "unknown"
#endif

namespace rast {

namespace {
thread_local std::string last_error_text;  // calls without a handle run on the caller's thread
std::atomic<int64_t> ops_count{0};
std::mutex ops_mutex;
bool ops_on = false;
at::CallbackHandle ops_callback = 0;
}  // namespace

std::atomic<int64_t> blocking_copies{0};

void set_last_error(const std::string &message) { last_error_text = message; }

const char *get_last_error() { return last_error_text.c_str(); }

int32_t guarded(std::string *sink, const std::function<void()> &body) {
  auto keep = [&](const std::string &message, int32_t code) {
    if (sink) *sink = message;
    else set_last_error(message);
    return code;
  };
  try {
    c10::InferenceMode guard;
    body();
    if (sink) sink->clear();
    return RAST_OK;
  } catch (const Error &e) {
    return keep(e.what(), e.code);
  } catch (const c10::Error &e) {
    return keep(std::string("libtorch: ") + e.what_without_backtrace(), RAST_E_BACKEND);
  } catch (const std::bad_alloc &) {
    return keep("Out of memory; give the KV pool fewer blocks (--kv-memory or "
                "--gpu-memory-utilization)", RAST_E_BACKEND);
  } catch (const std::exception &e) {
    return keep(e.what(), RAST_E_BACKEND);
  } catch (...) {
    return keep("Unknown failure inside the shim", RAST_E_BACKEND);
  }
}

void write_text(const std::string &text, char *buf, int64_t cap, int64_t *len) {
  if (len) *len = static_cast<int64_t>(text.size());
  if (buf && cap > 0) {
    size_t n = std::min(text.size(), static_cast<size_t>(cap - 1));
    memcpy(buf, text.data(), n);
    buf[n] = 0;
  }
}

at::ScalarType default_dtype(const at::Device &device, const std::string &disk_dtype) {
  if (!device.is_cuda()) return at::kFloat;
  if (disk_dtype == "float16") return at::kHalf;
  if (disk_dtype == "float32") return at::kFloat;
  return at::kBFloat16;  // bfloat16, and checkpoints that do not say
}

LoadOptions parse_load_options(const char *options_json) {
  LoadOptions o;
  if (at::hasCUDA()) o.device = at::Device(at::kCUDA, 0);
  if (!options_json || !*options_json) return o;
  Json j;
  try {
    j = json_parse(options_json);
  } catch (const std::exception &e) {
    fail(RAST_E_INVALID_ARGUMENT, std::string("Load options are not valid JSON: ") + e.what());
  }
  if (!j["dtype"].is_null()) {
    std::string dtype = json_string_or(j, "dtype", "float32");
    o.dtype_given = true;
    if (dtype == "float32") o.dtype = at::kFloat;
    else if (dtype == "bfloat16") o.dtype = at::kBFloat16;
    else if (dtype == "float16") o.dtype = at::kHalf;
    else
      fail(RAST_E_INVALID_ARGUMENT,
           "dtype \"" + dtype + "\" is not one of float32, bfloat16, float16");
  }
  if (!j["device"].is_null()) {
    std::string device = json_string_or(j, "device", "cpu");
    try {
      o.device = at::Device(device);
    } catch (const std::exception &) {
      fail(RAST_E_INVALID_ARGUMENT,
           "device \"" + device + "\" is not a device name like cpu or cuda:0");
    }
    if (o.device.is_cuda() && !at::hasCUDA())
      fail(RAST_E_UNSUPPORTED, "device \"" + device + "\" asked for, but this build of the shim "
                               "has no CUDA; build against a CUDA libtorch (set LIBTORCH)");
  }
  o.threads = static_cast<int32_t>(json_int_or(j, "threads", 0));
  const Json &det = j["deterministic"];
  if (!det.is_null()) {
    if (det.kind != Json::Bool)
      fail(RAST_E_INVALID_ARGUMENT, "deterministic must be true or false");
    o.deterministic = det.b;
  }
  const Json &tp = j["tensorParallel"];  // the key engine/model.ts LoadOptions sends
  if (!tp.is_null()) {
    bool whole = tp.kind == Json::Number && tp.num >= 1 && tp.num <= 1024 &&
                 tp.num == static_cast<int32_t>(tp.num);
    if (!whole) {
      std::ostringstream shown;
      if (tp.kind == Json::Number) shown << tp.num;
      else shown << (tp.kind == Json::String ? json_quote(tp.str) : "of another type");
      fail(RAST_E_INVALID_ARGUMENT, "tensorParallel " + shown.str() +
                                        " is not a whole number of at least 1; pass a rank "
                                        "count such as 2");
    }
    o.tensor_parallel = static_cast<int32_t>(tp.num);
  }
  return o;
}

void set_threads(int32_t threads) {
  int32_t n = threads > 0 ? threads : static_cast<int32_t>(std::thread::hardware_concurrency());
  if (n > 0 && at::get_num_threads() != n) at::set_num_threads(n);
}

std::string dtype_name(at::ScalarType t) {
  if (t == at::kFloat) return "float32";
  if (t == at::kBFloat16) return "bfloat16";
  if (t == at::kHalf) return "float16";
  return "other";
}

std::string model_info_json(const rast_model &h) {
  const Model &m = h.model;
  const ModelConfig &c = m.cfg;
  std::string s = "{";
  s += "\"dir\":" + json_quote(m.dir);
  s += ",\"architecture\":" + json_quote(c.arch_name);
  s += ",\"vocab\":" + std::to_string(c.vocab);
  s += ",\"hidden\":" + std::to_string(c.hidden);
  s += ",\"intermediate\":" + std::to_string(c.intermediate);
  s += ",\"layers\":" + std::to_string(c.layers);
  s += ",\"heads\":" + std::to_string(c.heads);
  s += ",\"kvHeads\":" + std::to_string(c.kv_heads);
  s += ",\"headDim\":" + std::to_string(c.head_dim);
  s += ",\"maxPositions\":" + std::to_string(c.max_positions);
  s += ",\"tiedEmbeddings\":" + std::string(c.tied_embeddings ? "true" : "false");
  s += ",\"rope\":{\"type\":" + json_quote(c.rope.type) +
       ",\"theta\":" + std::to_string(c.rope.theta) +
       ",\"factor\":" + std::to_string(c.rope.factor) + "}";
  s += ",\"diskDtype\":" + json_quote(c.disk_dtype);
  s += ",\"dtype\":" + json_quote(dtype_name(m.dtype));
  s += ",\"device\":" + json_quote(m.device.str());
  s += ",\"parameters\":" + std::to_string(m.w.parameters);
  s += ",\"tensorParallel\":" + std::to_string(m.shard.world);
  s += ",\"deterministic\":" + std::string(m.deterministic ? "true" : "false");
  s += ",\"cacheBlocks\":" + std::to_string(m.cache.n_blocks);
  s += ",\"blockSize\":" + std::to_string(m.cache.block_size);
  s += ",\"cacheBytes\":" + std::to_string(ranks_cache_bytes(h));
  s += ",\"kvBytesPerPosition\":" + std::to_string(ranks_kv_bytes_per_position(h));
  return s + "}";
}

BatchLimits batch_limits(const Model &m) {
  return {m.cache.n_blocks, m.cache.block_size, m.cfg.vocab, m.device, m.deterministic};
}

StepInput make_step_input(const BatchLimits &limits, const rast_batch *batch, int32_t logits_mode) {
  if (!batch || !batch->tokens || !batch->seq_lens || !batch->start_pos || !batch->block_table ||
      batch->n_seqs <= 0 || batch->max_blocks <= 0)
    fail(RAST_E_INVALID_ARGUMENT, "A batch needs tokens, seq_lens, start_pos, a block table, "
                                  "n_seqs > 0 and max_blocks > 0");
  if (limits.n_blocks == 0)
    fail(RAST_E_CAPACITY, "The KV cache is not set up; call rast_cache_init first");
  if (logits_mode < RAST_LOGITS_LAST || logits_mode > RAST_LOGITS_NONE)
    fail(RAST_E_INVALID_ARGUMENT, "logits_mode " + std::to_string(logits_mode) + " is unknown");
  const int64_t B = batch->n_seqs, bs = limits.block_size, W = batch->max_blocks;
  StepInput in;
  in.n_seqs = B;
  in.block_size = limits.block_size;
  in.decode = true;
  for (int64_t i = 0; i < B; i++) {
    const int64_t len = batch->seq_lens[i], start = batch->start_pos[i], end = start + len;
    const std::string which = "Sequence " + std::to_string(i);
    if (len <= 0) fail(RAST_E_INVALID_ARGUMENT, which + " brings no tokens (seq_lens must be >= 1)");
    if (start < 0) fail(RAST_E_INVALID_ARGUMENT, which + " starts at a negative position");
    const int64_t blocks = (end + bs - 1) / bs;
    if (blocks > W)
      fail(RAST_E_CAPACITY, which + " reaches position " + std::to_string(end) + ", which needs " +
                                std::to_string(blocks) + " blocks of " + std::to_string(bs) +
                                "; its block table row holds " + std::to_string(W));
    for (int64_t j = 0; j < blocks; j++) {
      const int32_t id = batch->block_table[i * W + j];
      if (id < 0 || id >= limits.n_blocks)
        fail(RAST_E_CAPACITY, which + " names block " + std::to_string(id) +
                                  ", outside the pool's " + std::to_string(limits.n_blocks) +
                                  " blocks");
    }
    in.n_tokens += len;
    in.kv_positions += end;
    in.decode = in.decode && len == 1;
    in.max_q = std::max(in.max_q, len);
    in.max_k = std::max(in.max_k, end);
  }
  in.packed = in.decode || limits.deterministic;
  auto row = [&](int64_t i, int64_t p) -> int64_t {
    return int64_t(batch->block_table[i * W + p / bs]) * bs + p % bs;
  };
  // Every index array in one host buffer, so the device gets them in one transfer.
  auto host = std::make_shared<std::vector<int64_t>>();
  std::vector<int64_t> &h = *host;
  struct Span { size_t at, n; };
  auto span_of = [&](size_t at) { return Span{at, h.size() - at}; };
  const int64_t N = in.n_tokens;
  size_t at = h.size();
  for (int64_t k = 0; k < N; k++) {
    const int32_t id = batch->tokens[k];
    if (id < 0 || id >= limits.vocab)
      fail(RAST_E_INVALID_ARGUMENT, "Token id " + std::to_string(id) + " is outside the vocab (" +
                                        std::to_string(limits.vocab) + ")");
    h.push_back(id);
  }
  Span tokens = span_of(at);
  at = h.size();
  for (int64_t i = 0; i < B; i++)
    for (int64_t t = 0; t < batch->seq_lens[i]; t++) h.push_back(batch->start_pos[i] + t);
  Span positions = span_of(at);
  at = h.size();
  for (int64_t i = 0; i < B; i++)
    for (int64_t t = 0; t < batch->seq_lens[i]; t++) h.push_back(row(i, batch->start_pos[i] + t));
  Span write_rows = span_of(at);
  at = h.size();
  for (int64_t i = 0, k = 0; i < B; k += batch->seq_lens[i], i++) {
    if (logits_mode == RAST_LOGITS_ALL)
      for (int64_t t = 0; t < batch->seq_lens[i]; t++) h.push_back(k + t);
    else h.push_back(k + batch->seq_lens[i] - 1);
  }
  Span rows = span_of(at);
  Span kv_rows{0, 0}, kv_query{0, 0};
  std::vector<Span> seq_rows;
  if (in.packed) {
    at = h.size();
    for (int64_t i = 0; i < B; i++)
      for (int64_t t = 0, p0 = batch->start_pos[i]; t < batch->seq_lens[i]; t++)
        for (int64_t p = 0; p <= p0 + t; p++) h.push_back(row(i, p));
    kv_rows = span_of(at);
    at = h.size();
    for (int64_t i = 0, k = 0; i < B; i++)
      for (int64_t t = 0, p0 = batch->start_pos[i]; t < batch->seq_lens[i]; t++, k++)
        h.insert(h.end(), p0 + t + 1, k);
    kv_query = span_of(at);
    in.kv_reads = static_cast<int64_t>(kv_rows.n);
  } else {
    for (int64_t i = 0; i < B; i++) {
      at = h.size();
      const int64_t end = int64_t(batch->start_pos[i]) + batch->seq_lens[i];
      for (int64_t p = 0; p < end; p++) h.push_back(row(i, p));
      seq_rows.push_back(span_of(at));
      in.kv_reads += end;
    }
    for (int64_t i = 0, k = 0; i < B; k += batch->seq_lens[i], i++) {
      in.q_start.push_back(k);
      in.q_len.push_back(batch->seq_lens[i]);
      in.kv_len.push_back(int64_t(batch->start_pos[i]) + batch->seq_lens[i]);
    }
  }
  at::Tensor all = at::from_blob(h.data(), {static_cast<int64_t>(h.size())}, at::kLong);
  if (limits.device.is_cuda()) {
    // Pinned staging and a non-blocking copy: the step does not wait for its inputs.
    at::Tensor pinned = at::empty_like(all, all.options().pinned_memory(true)).copy_(all);
    all = pinned.to(limits.device, /*non_blocking=*/true);
  } else {
    in.host = host;  // the CPU tensors are views of the host buffer
  }
  auto view = [&](Span s) { return all.narrow(0, static_cast<int64_t>(s.at), static_cast<int64_t>(s.n)); };
  in.tokens = view(tokens);
  in.positions = view(positions);
  in.write_rows = view(write_rows);
  in.rows = view(rows);
  if (in.packed) {
    in.kv_rows = view(kv_rows);
    in.kv_query = view(kv_query);
  }
  for (Span s : seq_rows) in.seq_kv_rows.push_back(view(s));
  if (limits.device.is_cuda()) {
    // Flash's paged path: int32 block table, per-sequence key counts, cumulative lengths.
    std::vector<int32_t> ints(batch->block_table, batch->block_table + B * W);
    int64_t q_sum = 0, k_sum = 0;
    std::vector<int32_t> used, cu_q{0}, cu_k{0};
    for (int64_t i = 0; i < B; i++) {
      const int32_t end = batch->start_pos[i] + batch->seq_lens[i];
      used.push_back(end);
      cu_q.push_back(static_cast<int32_t>(q_sum += batch->seq_lens[i]));
      cu_k.push_back(static_cast<int32_t>(k_sum += end));
    }
    ints.insert(ints.end(), used.begin(), used.end());
    ints.insert(ints.end(), cu_q.begin(), cu_q.end());
    ints.insert(ints.end(), cu_k.begin(), cu_k.end());
    at::Tensor packed = at::from_blob(ints.data(), {static_cast<int64_t>(ints.size())}, at::kInt);
    at::Tensor dev = at::empty_like(packed, packed.options().pinned_memory(true))
                         .copy_(packed)
                         .to(limits.device, /*non_blocking=*/true);
    in.block_table = dev.narrow(0, 0, B * W).view({B, W});
    in.seqused_k = dev.narrow(0, B * W, B);
    in.cu_seqlens_q = dev.narrow(0, B * W + B, B + 1);
    in.cu_seqlens_k = dev.narrow(0, B * W + 2 * B + 1, B + 1);
  }
  return in;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {
std::unique_ptr<at::ObserverContext> count_op(const at::RecordFunction &) {
  ops_count.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}
}  // namespace

void set_op_counting(bool on) {
  std::lock_guard<std::mutex> lock(ops_mutex);
  if (on == ops_on) return;
  if (on) ops_callback = at::addGlobalCallback(at::RecordFunctionCallback(count_op));
  else at::removeCallback(ops_callback);
  ops_on = on;
}

int64_t ops_counted() { return ops_count.load(std::memory_order_relaxed); }

void copy_out(void *dst, const at::Tensor &src) {
  at::Tensor c = src.contiguous();
  at::from_blob(dst, c.sizes(), c.scalar_type()).copy_(c);
  blocking_copies.fetch_add(1, std::memory_order_relaxed);
}

void device_memory(const std::string &device, int64_t *total, int64_t *free) {
  at::Device d = at::kCPU;
  try {
    d = at::Device(device);
  } catch (const std::exception &) {
    fail(RAST_E_INVALID_ARGUMENT, "device \"" + device + "\" is not a device name like cpu or cuda:0");
  }
  if (d.is_cpu()) {
    const int64_t page = sysconf(_SC_PAGESIZE);
    *total = int64_t(sysconf(_SC_PHYS_PAGES)) * page;
    *free = int64_t(sysconf(_SC_AVPHYS_PAGES)) * page;
    return;
  }
#ifdef RAST_CUDA
  size_t f = 0, t = 0;
  int previous = 0;
  cudaGetDevice(&previous);
  const bool ok = cudaSetDevice(d.index() < 0 ? 0 : d.index()) == cudaSuccess &&
                  cudaMemGetInfo(&f, &t) == cudaSuccess;
  cudaSetDevice(previous);
  if (!ok) fail(RAST_E_BACKEND, "Cannot read the memory of " + device + " from the CUDA driver");
  *total = static_cast<int64_t>(t);
  *free = static_cast<int64_t>(f);
#else
  fail(RAST_E_UNSUPPORTED, "device \"" + device + "\" asked for, but this build of the shim has no CUDA");
#endif
}

std::string runtime_info_json() {
  std::string s = "{";
  s += "\"abi\":" + std::to_string(RAST_ABI_VERSION);
  s += ",\"torch\":" + json_quote(RAST_TORCH_VERSION);
  s += ",\"cuda\":" + std::string(at::hasCUDA() ? "true" : "false");
  s += ",\"threads\":" + std::to_string(at::get_num_threads());
  s += ",\"devices\":" + std::to_string(at::getNumGPUs());
  s += ",\"collectives\":" + json_quote(collective_backends());
  return s + "}";
}

}  // namespace rast
