// Shared plumbing of the C ABI: error capture, option parsing, info JSON, op counting and device
// memory; the batch layout is in step_input.cpp.
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
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

#include "compute_thread.h"
#include "cuda_kernels.h"
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
  int32_t code = RAST_OK;
  std::string message;
  on_compute_thread([&] {
    try {
      c10::InferenceMode guard;
      body();
    } catch (const Error &e) {
      code = e.code;
      message = e.what();
    } catch (const c10::Error &e) {
      code = RAST_E_BACKEND;
      message = std::string("libtorch: ") + e.what_without_backtrace();
    } catch (const std::bad_alloc &) {
      code = RAST_E_BACKEND;
      message = "Out of memory; give the KV pool fewer blocks (--kv-memory or "
                "--gpu-memory-utilization)";
    } catch (const std::exception &e) {
      code = RAST_E_BACKEND;
      message = e.what();
    } catch (...) {
      code = RAST_E_BACKEND;
      message = "Unknown failure inside the shim";
    }
  });
  // The message goes where the caller reads it: the handle, or the calling thread's own.
  if (sink) *sink = message;
  else if (code != RAST_OK) set_last_error(message);
  return code;
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

Json parse_options(const char *options_json, const char *what) {
  try {
    return json_parse(options_json);
  } catch (const std::exception &e) {
    fail(RAST_E_INVALID_ARGUMENT, std::string(what) + " are not valid JSON: " + e.what());
  }
}

void read_bool_option(const Json &options, const char *key, bool &out) {
  const Json &v = options[key];
  if (v.is_null()) return;
  if (v.kind != Json::Bool) fail(RAST_E_INVALID_ARGUMENT, std::string(key) + " must be true or false");
  out = v.b;
}

at::Device parse_device(const std::string &device) {
  try {
    return at::Device(device);
  } catch (const std::exception &) {
    fail(RAST_E_INVALID_ARGUMENT, "device \"" + device + "\" is not a device name like cpu or cuda:0");
  }
}

LoadOptions parse_load_options(const char *options_json) {
  LoadOptions o;
  if (at::hasCUDA()) o.device = at::Device(at::kCUDA, 0);
  if (!options_json || !*options_json) return o;
  const Json j = parse_options(options_json, "Load options");
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
    o.device = parse_device(device);
    if (o.device.is_cuda() && !at::hasCUDA())
      fail(RAST_E_UNSUPPORTED, "device \"" + device + "\" asked for, but this build of the shim "
                               "has no CUDA; build against a CUDA libtorch (set LIBTORCH)");
  }
  o.threads = static_cast<int32_t>(json_int_or(j, "threads", 0));
  read_bool_option(j, "deterministic", o.deterministic);
  read_bool_option(j, "fusedKernels", o.fused_kernels);
  read_bool_option(j, "randomWeights", o.random_weights);
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
  s += ",\"fusedKernels\":" + std::string(gpu::fused(m) ? "true" : "false");
  s += ",\"cacheBlocks\":" + std::to_string(m.cache.n_blocks);
  s += ",\"blockSize\":" + std::to_string(m.cache.block_size);
  s += ",\"cacheBytes\":" + std::to_string(ranks_cache_bytes(h));
  s += ",\"kvBytesPerPosition\":" + std::to_string(ranks_kv_bytes_per_position(h));
  return s + "}";
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {
// Only operators the shim itself calls count (depth 0 on their thread), not those an operator
// runs inside it: the figure is what a step asks of ATen, each a launch on a GPU.
thread_local int op_depth = 0;

std::unique_ptr<at::ObserverContext> count_op(const at::RecordFunction &) {
  if (op_depth++ == 0) ops_count.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void end_op(const at::RecordFunction &, at::ObserverContext *) { op_depth--; }
}  // namespace

void set_op_counting(bool on) {
  std::lock_guard<std::mutex> lock(ops_mutex);
  if (on == ops_on) return;
  if (on) ops_callback = at::addGlobalCallback(at::RecordFunctionCallback(count_op, end_op));
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
  const at::Device d = parse_device(device);
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

int64_t device_peak_memory(const std::string &device, bool reset) {
  [[maybe_unused]] const at::Device d = parse_device(device);
#ifdef RAST_CUDA
  if (d.is_cuda()) {
    const auto index = static_cast<c10::DeviceIndex>(d.index() < 0 ? 0 : d.index());
    // reserved_bytes[0]: every pool together (StatType::AGGREGATE), graph pools included
    const int64_t peak = c10::cuda::CUDACachingAllocator::getDeviceStats(index).reserved_bytes[0].peak;
    if (reset) c10::cuda::CUDACachingAllocator::resetPeakStats(index);
    return peak;
  }
#endif
  fail(RAST_E_UNSUPPORTED, "Peak memory is tracked on CUDA devices only, not on \"" + device + "\"");
}

double device_copy_bandwidth(const std::string &device, int64_t bytes) {
  const at::Device d = parse_device(device);
  at::Tensor src = at::ones({bytes}, at::TensorOptions().dtype(at::kByte).device(d));
  at::Tensor dst = at::empty_like(src);
  auto wait = [&] {
#ifdef RAST_CUDA
    if (d.is_cuda()) c10::cuda::device_synchronize();
#endif
  };
  dst.copy_(src);  // warm-up: pages touched, kernels loaded
  wait();
  int64_t best = INT64_MAX;
  for (int r = 0; r < 10; r++) {
    const int64_t t0 = now_ns();
    dst.copy_(src);
    wait();
    best = std::min(best, now_ns() - t0);
  }
  return 2.0 * static_cast<double>(bytes) / (static_cast<double>(std::max<int64_t>(best, 1)) / 1e9);
}

std::string runtime_info_json() {
  std::string s = "{";
  s += "\"abi\":" + std::to_string(RAST_ABI_VERSION);
  s += ",\"torch\":" + json_quote(RAST_TORCH_VERSION);
  s += ",\"cuda\":" + std::string(at::hasCUDA() ? "true" : "false");
  s += ",\"threads\":" + std::to_string(at::get_num_threads());
  s += ",\"devices\":" + std::to_string(at::getNumGPUs());
  s += ",\"collectives\":" + json_quote(collective_backends());
#ifdef RAST_CUDA_KERNELS
  s += ",\"cudaKernels\":true";
#else
  s += ",\"cudaKernels\":false";
#endif
#ifdef RAST_CUDA
  s += ",\"cudaGraphs\":true";
#else
  s += ",\"cudaGraphs\":false";
#endif
  return s + "}";
}

}  // namespace rast
