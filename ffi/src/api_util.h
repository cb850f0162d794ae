// Plumbing shared by the C ABI functions (api.cpp, api_group.cpp); see api_util.cpp.
#pragma once

#include <ATen/ATen.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "json.h"
#include "model.h"
#include "tensor_parallel.h"

struct rast_model {
  rast::Model model;                         // rank 0 (the whole model without tensor parallelism)
  std::unique_ptr<rast::TensorParallel> tp;  // the ranks' threads; null when not split
  int64_t world_model = 0;  // > 0: split across the process world under this id (world_calls.cpp)
  bool loaded = false;
  std::string error;                 // the message of the last failure on this handle
  rast_forward_stats last{};         // what the last forward cost
};

namespace rast {

// This thread's message for calls without a handle.
void set_last_error(const std::string &message);
const char *get_last_error();

// Runs body on the compute thread under InferenceMode; returns RAST_OK or the code of whatever
// it threw, keeping the message in *sink (a handle's error) or, when sink is null, in the calling
// thread's last error.
int32_t guarded(std::string *sink, const std::function<void()> &body);

// Copies text into a caller buffer of cap bytes (NUL-terminated); *len gets the full length.
void write_text(const std::string &text, char *buf, int64_t cap, int64_t *len);

struct LoadOptions {
  bool dtype_given = false;  // else float32 on CPU, the checkpoint's dtype on a GPU
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;  // default: cuda:0 when the build has CUDA and a GPU
  int32_t threads = 0;  // 0: one per core (with tensor parallelism: shared by the ranks)
  int32_t tensor_parallel = 1;  // ranks the model is split across
  bool deterministic = false;   // batch-invariant arithmetic
  bool fused_kernels = true;    // the shim's CUDA kernels (off: eager ATen, for comparison)
  bool random_weights = false;  // no checkpoint: random weights of config.json's shapes
};
LoadOptions parse_load_options(const char *options_json);
// The options object of a call (options_json non-empty); invalid JSON is a one-line error
// naming `what` ("Load options").
Json parse_options(const char *options_json, const char *what);
// options[key] into out when present; anything but true or false is a one-line error.
void read_bool_option(const Json &options, const char *key, bool &out);
// A device name such as cpu or cuda:0; anything else is a one-line error.
at::Device parse_device(const std::string &device);
// The compute dtype when none was asked for: float32 on CPU, the checkpoint's on a GPU.
at::ScalarType default_dtype(const at::Device &device, const std::string &disk_dtype);
void set_threads(int32_t threads);

std::string runtime_info_json();
void device_memory(const std::string &device, int64_t *total, int64_t *free);
int64_t device_peak_memory(const std::string &device, bool reset);
double device_copy_bandwidth(const std::string &device, int64_t bytes);

// Loads the model the options describe into the handle (split across ranks when
// tensor_parallel > 1).
void model_handle_load(rast_model &h, const std::string &dir, const LoadOptions &o);
// The handle's model, refusing a handle that was never loaded.
Model &loaded_model(rast_model *h, const char *call);

// Nanoseconds on a monotonic clock, for the cost counters.
int64_t now_ns();
std::string model_info_json(const rast_model &h);

// What a batch is checked against: the pool shape and vocab of the models that will run it.
struct BatchLimits {
  int32_t n_blocks = 0, block_size = 0;
  int64_t vocab = 0;
  at::Device device = at::kCPU;
  bool deterministic = false;
  bool flash = false;  // attention is flash's paged kernel, which reads the block tables itself
};
BatchLimits batch_limits(const Model &m);
// Whether the model attends with flash's paged kernel (CUDA builds, bf16 / fp16, not deterministic).
bool flash_attends(const Model &m);
// Refuses a batch the pool, the vocab or the logits mode does not allow, in one line.
void check_batch(const BatchLimits &limits, const rast_batch *batch, int32_t logits_mode);
// Validates the caller's batch and lays it out on the device: one transfer of every index array
// (none on CPU, where the tensors view the host arrays).
StepInput make_step_input(const BatchLimits &limits, const rast_batch *batch, int32_t logits_mode);
// The same layout for a batch check_batch has already passed.
StepInput lay_out_step_input(const BatchLimits &limits, const rast_batch *batch,
                             int32_t logits_mode);

// ATen operators counted since rast_count_ops(1), and blocking host <-> device copies.
int64_t ops_counted();
extern std::atomic<int64_t> blocking_copies;
// Copies a device tensor into caller memory (one blocking transfer).
void copy_out(void *dst, const at::Tensor &src);

// The model's operations on every rank of a handle (just the model when it is not split).
at::Tensor ranks_forward(rast_model &h, const StepInput &in);  // rank 0's logits [R, V]
void ranks_cache_init(rast_model &h, int32_t n_blocks, int32_t block_size);
void ranks_cache_copy_blocks(rast_model &h, const int32_t *src, const int32_t *dst, int32_t n);
int64_t ranks_cache_bytes(const rast_model &h);  // all ranks together
int64_t ranks_kv_bytes_per_position(const rast_model &h);  // all ranks together

// The same calls on a model split across the process world (world_calls.cpp): rank 0 sends each
// to the other ranks, then runs its own part.
void world_model_load(rast_model &h, const LoadOptions &o);
void world_model_free(rast_model &h);
at::Tensor world_forward(rast_model &h, const StepInput &in);
void world_cache_init(rast_model &h, int32_t n_blocks, int32_t block_size);
// ids: [2n] int64, the sources then the destinations, already checked against the pool.
void world_cache_copy_blocks(rast_model &h, const std::vector<int64_t> &ids);

}  // namespace rast
