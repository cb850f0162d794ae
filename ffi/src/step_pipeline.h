// Pipelined decode steps (rast_group_step_launch / rast_group_step_wait, vLLM's async
// scheduling): a step is issued and its sampled rows start on their way to pinned host memory;
// the caller may launch the next step before waiting for them, with that step's tokens taken on
// the device from this step's samples (the feed), so the device never idles while the host reads
// a step's tokens, checks stops and plans the next one.
//
// Exactness is kept without a host round trip: a row whose nucleus was wider than the sampler's
// prefilter (group.h) is resampled with the full sort when its step is waited for, and a next
// step that already took the prefilter's token for it is marked stale and run again, eagerly,
// with the corrected tokens when it is waited for (its K/V writes land on the same positions).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rast_step.h"

struct rast_group;
struct rast_batch;
struct rast_step_stats;

namespace rast {

struct DeviceStep;

class StepPipeline {
 public:
  StepPipeline();
  ~StepPipeline();
  StepPipeline(const StepPipeline &) = delete;
  StepPipeline &operator=(const StepPipeline &) = delete;

  // On the compute thread: checks and issues one step. feed (may be null): [n_seqs], row j >= 0
  // takes that sequence's token from row j of the step launched just before (-1: batch->tokens).
  // At most two launched steps wait at once.
  void launch(rast_group *g, const rast_batch *batch, const int32_t *feed, const uint64_t *seeds,
              const SamplingParams &params);

  // On any thread: hands the oldest launched step's tokens and statistics over when they are
  // exact as sampled (the common case), and returns true; false leaves it to wait().
  bool try_wait(rast_group *g, int32_t *out_tokens, float *out_stats);

  // On the compute thread: the oldest launched step's outputs, resampled or run again where
  // needed. Returns the step as finally sampled (for the debugger's rows).
  DeviceStep wait(rast_group *g, int32_t *out_tokens, float *out_stats, int64_t *n_out);

  // Launched steps not yet waited for.
  int64_t pending() const;

  // For rast_group_info: {"resampled":N,"rerun":N}, the steps waited for so far whose nucleus
  // outgrew the prefilter (resampled with the full sort) and those run again (stale or rewritten).
  std::string info_json() const;

  // Forgets every launched step (a new cache or new graphs: the rows they would feed are gone).
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rast
