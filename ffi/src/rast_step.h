// The RAST decoding step: combine base and pair logits, filter, sample, and summarise.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace rast {

struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy
  float top_p = 1.0f;        // vLLM convention
  int32_t top_k = 0;         // 0: off
  int32_t stats_k = 8;       // boosted / suppressed list length
  bool want_stats = true;    // false: no statistics (a plain batch run needs none)
  // top-p: false samples from the top NUCLEUS_K tokens and reports in `covered` the rows whose
  // nucleus is wider (the caller reruns the step with true for them); true sorts the vocab.
  bool full_sort = false;
};

// Number of floats of one sequence's statistics row (see rast.h for the layout).
int64_t stats_width(int32_t stats_k);

struct StepResult {
  at::Tensor tokens;    // [B] int64
  at::Tensor stats;     // [B, stats_width] float32 (undefined without want_stats)
  at::Tensor combined;  // [B, V_base] float32, -inf beyond the shared vocab
  at::Tensor covered;   // [B] bool: the row's token is exact (undefined: every row is)
};

// base: [B, V_base]; pos[i], neg[i]: [B, V_i] (all float32, one device); weights: one per pair;
// uniforms: [B] float64 in [0, 1), one per sequence, from its seed and position.
StepResult rast_step(const at::Tensor &base, const std::vector<at::Tensor> &pos,
                     const std::vector<at::Tensor> &neg, const std::vector<float> &weights,
                     const at::Tensor &uniforms, const SamplingParams &params);

// A uniform in [0, 1) that depends only on (seed, position): a sequence's samples never depend
// on which other sequences share its batch.
double seeded_uniform(uint64_t seed, int64_t position);

}  // namespace rast
