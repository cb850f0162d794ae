// Decode steps through CUDA graphs (vLLM's design, nano-vllm's capture): one graph per batch
// bucket (1, 2, 4, 8, then multiples of 8 up to maxBatch), captured on a bucket's first step and
// replayed after, so a step costs one launch instead of thousands. The whole group step is in
// it: every model's forward pass, the combine, sampling and statistics. Its inputs live in static
// device buffers that one non-blocking copy from pinned memory fills (tokens, positions, KV rows,
// uniforms, block tables, key counts); rows that pad a batch up to its bucket write to the pool's
// scratch block and are dropped. The only blocking transfer of a step is the copy of the sampled
// ids and statistics back.
//
// Graphs serve decode steps (one token per sequence) of groups whose models are whole (not split)
// bf16 / fp16 models on one GPU attending through flash's paged kernel, up to maxBatch sequences
// below maxSeqLen positions; every other step runs eagerly, as does everything when graphs are
// off (rast_group_configure, `--enforce-eager`).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rast_step.h"

struct rast_group;
struct rast_batch;

namespace rast {

struct DeviceStep;

struct GraphSettings {
  bool enabled = false;
  int32_t max_batch = 0;    // the largest bucket covers this many sequences
  int32_t max_seq_len = 0;  // positions a sequence may reach (sizes the static block tables)
  // Pipelined steps' fed tokens (step_pipeline.h): taken on the device (1), from the host rows
  // of the step before (0), or -1: on the device on a GPU, on the host on a CPU. Ranks in other
  // processes always take them from the host.
  int32_t device_feed = -1;
};

// {"cudaGraphs": bool, "maxBatch": N, "maxSeqLen": N, "deviceFeed": bool}; one-line errors for
// bad values.
GraphSettings parse_graph_settings(const char *options_json);

class DecodeGraphs {
 public:
  explicit DecodeGraphs(const GraphSettings &settings);
  ~DecodeGraphs();
  DecodeGraphs(const DecodeGraphs &) = delete;
  DecodeGraphs &operator=(const DecodeGraphs &) = delete;

  const GraphSettings &settings() const;

  // The bucket this step would replay, or 0 when it runs eagerly.
  int64_t bucket_for(rast_group *g, const rast_batch *batch) const;

  // Issues the step through its bucket's graph, capturing it first when needed; the batch is
  // checked already. Rows with feed[i] >= 0 (feed may be null) take their token on the device
  // from fed_from[feed[i]] ([B_prev] int64, the step before's samples). issued(out) runs on the
  // graph's stream right after the replay (to start the copy of the rows out); the caller's
  // stream then waits for the graph's, so later work there follows the step. The result's rows
  // past n_seqs are padding; they stay valid until the graph's next replay (DeviceStep::intact).
  // A failed capture throws and turns graphs off for the group (info_json says why); the caller
  // then runs the step eagerly.
  DeviceStep launch(rast_group *g, const rast_batch *batch, const uint64_t *seeds,
                    const int32_t *feed, const at::Tensor &fed_from, const SamplingParams &params,
                    int64_t bucket, const std::function<void(const DeviceStep &)> &issued);

  // For rast_group_info: {"enabled":..,"maxBatch":..,"maxSeqLen":..,"captured":[buckets],
  // "disabled":"why graphs stopped" or null}.
  std::string info_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rast
