// The RAST group (rast.h): a base model plus (positive, negative, weight) pairs sharing one set
// of block tables, and the device work of one of its steps, which the eager path and the CUDA
// graphs (decode_graphs.h) run alike.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api_util.h"
#include "decode_graphs.h"
#include "rast_step.h"
#include "side_stream.h"
#include "step_pipeline.h"

struct rast_group {
  rast_model *base = nullptr;
  std::vector<rast_model *> pos, neg;
  std::vector<rast_model *> models;      // every distinct model once, the base first
  std::vector<float> weights;
  int64_t shared_vocab = 0;
  std::string error;                     // the message of the last failure on this group
  rast::StepResult last;                 // the last step, for rast_group_last_logits
  at::Tensor last_base;                  // [B, V_base]
  std::vector<at::Tensor> last_pos, last_neg;
  rast_step_stats stats{};               // what the last step cost
  std::unique_ptr<rast::DecodeGraphs> graphs;  // rast_group_configure's CUDA graphs (off at init)
  rast::SideStream side;                       // where the pair models run on a GPU
  rast::StepPipeline pipeline;                 // steps launched and not yet waited for
};

namespace rast {

// One step's device results. packed: [B, 3 + stats width] float32, per row the sampled token, the
// non-finite code (rast.h; 0 when every model's row is finite), whether the token is exact
// (1; 0: the nucleus was wider than the top-k prefilter, rerun with full_sort) and the
// statistics: what the host copies back, in one transfer.
struct DeviceStep {
  at::Tensor base;                  // [B, V_base] float32, non-finite entries zeroed
  std::vector<at::Tensor> pos, neg; // [B, V_i] likewise
  StepResult result;
  at::Tensor packed;
  int64_t forwarded_at = 0;         // now_ns() when the forward passes were issued
  // A graph's outputs are its own buffers, rewritten by its next replay: replays counts them,
  // `replay` is this step's.
  std::shared_ptr<const uint64_t> replays;
  uint64_t replay = 0;
  bool intact() const { return !replays || *replays == replay; }
};

// Every distinct model once on the input (on a GPU the pair models on a second stream beside the
// base), the non-finite check, rast_step. No host synchronisation, so a CUDA graph can capture
// it; cost (may be null) gets the KV traffic.
DeviceStep group_device_step(rast_group *g, const StepInput &in, const at::Tensor &uniforms,
                             const SamplingParams &params, rast_forward_stats *cost);

// Reruns sampling of a step whose packed rows say a nucleus spilled past the prefilter: the
// whole-vocab sort for every row, from the same logits and uniforms (the same token where the
// prefilter was exact).
void resample_full(DeviceStep &step, const rast_group *g, const at::Tensor &uniforms,
                   SamplingParams params);

// Copies the first n packed rows to the host, the step's one blocking transfer; when a row's
// nucleus spilled past the prefilter, resamples every row with the full sort and copies again.
// Returns the step as sampled (a resampled copy in that case; a graph's outputs stay its own).
DeviceStep step_rows_to_host(const DeviceStep &step, const rast_group *g,
                             const at::Tensor &uniforms, const SamplingParams &params, int64_t n,
                             std::vector<float> &rows);

// A step issued on the device (issue_group_step): its outputs, its uniforms (an eager step's; a
// graph keeps its own) and the bucket of the graph it replayed (0: eager).
struct IssuedStep {
  DeviceStep step;
  at::Tensor uniforms;
  int64_t bucket = 0;
};

// Issues a group step for a checked batch: through its bucket's CUDA graph where one serves it,
// else eagerly. Rows with feed[i] >= 0 (feed may be null) take their token on the device from
// fed_from[feed[i]]. issued(step) runs where the outputs are written (a graph's stream), to start
// the copy of its rows out; cost gets the KV traffic.
IssuedStep issue_group_step(rast_group *g, const rast_batch *batch, const int32_t *feed,
                            const at::Tensor &fed_from, const uint64_t *seeds,
                            const SamplingParams &params, rast_forward_stats *cost,
                            const std::function<void(const DeviceStep &)> &issued);

// tokens [n] int64 with the fed rows (feed [n] int64 >= 0, on the same device) replaced by the
// step before's samples fed_from[feed[i]]; the rule eager steps and graphs share.
at::Tensor with_fed_tokens(const at::Tensor &tokens, const at::Tensor &feed,
                           const at::Tensor &fed_from);

// [B] float64 on `device`: each sequence's uniform, from its seed and the position it samples.
at::Tensor step_uniforms(const rast_batch *batch, const uint64_t *seeds, const at::Device &device);

// The models of a group laid out for one batch: the pool shape they share, the smallest vocab.
BatchLimits group_limits(rast_group *g);

}  // namespace rast
