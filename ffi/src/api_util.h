// Plumbing shared by the C ABI functions (api.cpp); see api_util.cpp.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>

#include "error.h"
#include "model.h"
#include "tensor_parallel.h"

struct rast_model {
  rast::Model model;                       // rank 0 (the whole model without tensor parallelism)
  std::unique_ptr<rast::TensorParallel> tp;  // the ranks' threads; null when not split
  int64_t last_forward_ns = 0;  // time of the last rast_model_forward inside the shim
};

namespace rast {

// The message of the most recent failure in the process (calls are serialised by the caller).
void set_last_error(const std::string &message);
const char *get_last_error();

// Runs body under InferenceMode; returns RAST_OK or the code of whatever it threw, keeping the
// message in last_error.
int32_t guarded(const std::function<void()> &body);

// Copies text into a caller buffer of cap bytes (NUL-terminated); *len gets the full length.
void write_text(const std::string &text, char *buf, int64_t cap, int64_t *len);

struct LoadOptions {
  bool dtype_given = false;  // else float32 on CPU, the checkpoint's dtype on a GPU
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;  // default: cuda:0 when the build has CUDA and a GPU
  int32_t threads = 0;  // 0: one per core (with tensor parallelism: shared by the ranks)
  int32_t tensor_parallel = 1;  // ranks the model is split across
};
LoadOptions parse_load_options(const char *options_json);
// The compute dtype when none was asked for: float32 on CPU, the checkpoint's on a GPU.
at::ScalarType default_dtype(const at::Device &device, const std::string &disk_dtype);
void set_threads(int32_t threads);

std::string runtime_info_json();

// Loads the model the options describe (split across ranks when tensor_parallel > 1).
std::unique_ptr<rast_model> model_handle_load(const std::string &dir, const LoadOptions &o);

// Nanoseconds on a monotonic clock, for the timing counters of rast_*_last_*.
int64_t now_ns();
std::string model_info_json(const rast_model &h);

// Validates the caller's ragged batch and lays it out as a padded [B, T] step on the device.
StepInput make_step_input(const Model &m, const int32_t *tokens, const int32_t *seq_lens,
                          const int32_t *slots, const int32_t *start_pos, int32_t n_seqs,
                          int32_t logits_mode);

// The model's operations on every rank of a handle (just the model when it is not split).
at::Tensor ranks_forward(rast_model &h, const StepInput &in);  // rank 0's logits [R, V]
void ranks_cache_init(rast_model &h, int32_t slots, int32_t max_len);
void ranks_cache_copy(rast_model &h, int32_t src, int32_t dst, int32_t len);
int64_t ranks_cache_bytes(const rast_model &h);  // all ranks together

}  // namespace rast
