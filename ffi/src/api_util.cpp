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

#include "json.h"

#ifndef RAST_TORCH_VERSION
#define RAST_TORCH_VERSION "unknown"
#endif

namespace rast {

namespace {
std::mutex error_mutex;
std::string last_error_text;  // process-wide: nonblocking calls fail on a worker thread
}  // namespace

void set_last_error(const std::string &message) {
  std::lock_guard<std::mutex> lock(error_mutex);
  last_error_text = message;
}

const char *get_last_error() {
  thread_local std::string copy;  // stable for the caller until its next call
  std::lock_guard<std::mutex> lock(error_mutex);
  copy = last_error_text;
  return copy.c_str();
}

int32_t guarded(const std::function<void()> &body) {
  try {
    c10::InferenceMode guard;
    body();
    return RAST_OK;
  } catch (const Error &e) {
    set_last_error(e.what());
    return e.code;
  } catch (const c10::Error &e) {
    set_last_error(std::string("libtorch: ") + e.what_without_backtrace());
    return RAST_E_BACKEND;
  } catch (const std::bad_alloc &) {
    set_last_error("Out of memory; use a smaller cache (fewer slots or a shorter max length)");
    return RAST_E_BACKEND;
  } catch (const std::exception &e) {
    set_last_error(e.what());
    return RAST_E_BACKEND;
  } catch (...) {
    set_last_error("Unknown failure inside the shim");
    return RAST_E_BACKEND;
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
  s += ",\"cacheSlots\":" + std::to_string(m.cache.slots);
  s += ",\"cacheMaxLen\":" + std::to_string(m.cache.max_len);
  s += ",\"cacheBytes\":" + std::to_string(ranks_cache_bytes(h));
  return s + "}";
}

StepInput make_step_input(const Model &m, const int32_t *tokens, const int32_t *seq_lens,
                          const int32_t *slots, const int32_t *start_pos, int32_t n_seqs,
                          int32_t logits_mode) {
  if (!tokens || !seq_lens || !slots || !start_pos || n_seqs <= 0)
    fail(RAST_E_INVALID_ARGUMENT, "forward needs tokens, seq_lens, slots, start_pos and n_seqs > 0");
  if (m.cache.slots == 0)
    fail(RAST_E_CAPACITY, "The KV cache is not set up; call rast_cache_init first");
  if (logits_mode < RAST_LOGITS_LAST || logits_mode > RAST_LOGITS_NONE)
    fail(RAST_E_INVALID_ARGUMENT, "logits_mode " + std::to_string(logits_mode) + " is unknown");
  int64_t T = 0, kv_len = 0;
  std::set<int32_t> seen;
  for (int32_t i = 0; i < n_seqs; i++) {
    if (seq_lens[i] <= 0) fail(RAST_E_INVALID_ARGUMENT, "seq_lens[" + std::to_string(i) + "] must be positive");
    if (slots[i] < 0 || slots[i] >= m.cache.slots)
      fail(RAST_E_INVALID_ARGUMENT, "Slot " + std::to_string(slots[i]) + " is outside the cache's " +
                                        std::to_string(m.cache.slots) + " slots");
    if (!seen.insert(slots[i]).second)
      fail(RAST_E_INVALID_ARGUMENT, "Slot " + std::to_string(slots[i]) + " appears twice in one batch");
    if (start_pos[i] < 0 || int64_t(start_pos[i]) + seq_lens[i] > m.cache.max_len)
      fail(RAST_E_CAPACITY, "Sequence in slot " + std::to_string(slots[i]) + " would reach position " +
                                std::to_string(int64_t(start_pos[i]) + seq_lens[i]) +
                                " but the cache holds " + std::to_string(m.cache.max_len) +
                                "; raise the cache length or lower max new tokens");
    T = std::max<int64_t>(T, seq_lens[i]);
    kv_len = std::max<int64_t>(kv_len, int64_t(start_pos[i]) + seq_lens[i]);
  }
  const int64_t B = n_seqs;
  std::vector<int64_t> tok(B * T, 0), pos(B * T, 0), slot(B), valid, vslot, vpos, rows;
  int64_t k = 0;
  for (int64_t b = 0; b < B; b++) {
    slot[b] = slots[b];
    for (int64_t t = 0; t < T; t++) {
      int64_t p = start_pos[b] + t;
      pos[b * T + t] = std::min<int64_t>(p, m.cache.max_len - 1);
      if (t >= seq_lens[b]) continue;
      int32_t id = tokens[k++];
      if (id < 0 || id >= m.cfg.vocab)
        fail(RAST_E_INVALID_ARGUMENT, "Token id " + std::to_string(id) + " is outside the vocab (" +
                                          std::to_string(m.cfg.vocab) + ")");
      tok[b * T + t] = id;
      valid.push_back(b * T + t);
      vslot.push_back(slots[b]);
      vpos.push_back(p);
      if (logits_mode == RAST_LOGITS_ALL) rows.push_back(b * T + t);
    }
    if (logits_mode != RAST_LOGITS_ALL) rows.push_back(b * T + seq_lens[b] - 1);
  }
  auto dev = [&](std::vector<int64_t> &v, std::vector<int64_t> shape) {
    return at::from_blob(v.data(), shape, at::kLong).to(m.device, /*non_blocking=*/false, /*copy=*/true);
  };
  StepInput in;
  in.tokens = dev(tok, {B, T});
  in.positions = dev(pos, {B, T});
  in.slots = dev(slot, {B});
  in.valid = dev(valid, {static_cast<int64_t>(valid.size())});
  in.valid_slot = dev(vslot, {static_cast<int64_t>(vslot.size())});
  in.valid_pos = dev(vpos, {static_cast<int64_t>(vpos.size())});
  in.rows = dev(rows, {static_cast<int64_t>(rows.size())});
  in.kv_len = kv_len;
  // Slots within a run at most twice the batch: attend on a view of the cache, no copy.
  const int64_t lo = *std::min_element(slot.begin(), slot.end());
  const int64_t span = *std::max_element(slot.begin(), slot.end()) - lo + 1;
  if (span > 2 * B) {
    in.attn_positions = in.positions;
    return in;
  }
  in.attn_lo = lo;
  bool in_order = span == B;
  for (int64_t b = 0; b < B && in_order; b++) in_order = slot[b] == lo + b;
  if (in_order) {
    in.attn_positions = in.positions;
    return in;
  }
  // Idle rows see every position (finite scores; their outputs are dropped).
  std::vector<int64_t> attn_pos(span * T, kv_len - 1), attn_rows(B);
  for (int64_t b = 0; b < B; b++) {
    attn_rows[b] = slot[b] - lo;
    std::copy(pos.begin() + b * T, pos.begin() + (b + 1) * T, attn_pos.begin() + attn_rows[b] * T);
  }
  in.attn_rows = dev(attn_rows, {B});
  in.attn_positions = dev(attn_pos, {span, T});
  return in;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
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
