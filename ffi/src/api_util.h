// Plumbing shared by the C ABI functions (api.cpp); see api_util.cpp.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "error.h"
#include "model.h"

struct rast_model {
  rast::Model model;
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
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
  int32_t threads = 0;  // 0: one per core
};
LoadOptions parse_load_options(const char *options_json);
void set_threads(int32_t threads);

std::string runtime_info_json();

// Nanoseconds on a monotonic clock, for the timing counters of rast_*_last_*.
int64_t now_ns();
std::string model_info_json(const Model &m);

// Validates the caller's ragged batch and lays it out as a padded [B, T] step on the device.
StepInput make_step_input(const Model &m, const int32_t *tokens, const int32_t *seq_lens,
                          const int32_t *slots, const int32_t *start_pos, int32_t n_seqs,
                          int32_t logits_mode);

}  // namespace rast
