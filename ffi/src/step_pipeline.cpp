// Pipelined decode steps (step_pipeline.h): the launched steps' records, their launch through a
// CUDA graph or eagerly, and the hand-over of their rows.
#include "step_pipeline.h"

#include <cstring>
#include <deque>
#include <mutex>

#include "group.h"

#ifdef RAST_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#endif

namespace rast {
namespace {

// One launched step: its inputs (kept for a rerun), its device results and its rows on the way
// to the host.
struct Launched {
  uint64_t id = 0;
  std::vector<int32_t> tokens, seq_lens, start_pos, block_table;  // fed rows: 0 until known
  int32_t max_blocks = 0;
  std::vector<uint64_t> seeds;
  std::vector<int32_t> feed;  // [n] the row of the step before each token comes from, or -1
  uint64_t fed_from = 0;      // that step's id when some row is fed
  SamplingParams params;
  int64_t n = 0, bucket = 0;
  DeviceStep step;
  at::Tensor uniforms;
  at::Tensor host_rows;  // [n, 3 + stats] float32: pinned on a GPU, where the copy lands
#ifdef RAST_CUDA
  at::cuda::CUDAEvent copied;  // the copy of host_rows has landed
#endif
  bool stale = false;  // a fed row took a token its step's wait then corrected: run it again
  rast_forward_stats cost{};
  int64_t started_ns = 0, launched_ns = 0, ops = 0, copies = 0;  // ops and blocking copies

  rast_batch batch() const {
    return {tokens.data(), seq_lens.data(), start_pos.data(), block_table.data(), max_blocks,
            static_cast<int32_t>(n)};
  }
  int64_t width() const { return host_rows.size(1); }
  const float *row(int64_t i) const { return host_rows.data_ptr<float>() + i * width(); }
  // A finite row whose nucleus the prefilter did not hold (group.h's packed rows).
  bool inexact() const {
    for (int64_t i = 0; i < n; i++)
      if (row(i)[2] == 0 && row(i)[1] == 0) return true;
    return false;
  }
  void wait_copy() {
#ifdef RAST_CUDA
    copied.synchronize();
#endif
  }
};

using Record = std::shared_ptr<Launched>;

// The uniforms of a step: one per sequence, from its seed and the position it samples.
at::Tensor uniforms_of(const Launched &s, const at::Device &device) {
  std::vector<double> u(s.n);
  for (int64_t i = 0; i < s.n; i++)
    u[i] = seeded_uniform(s.seeds[i], int64_t(s.start_pos[i]) + s.seq_lens[i]);
  return at::from_blob(u.data(), {s.n}, at::kDouble).to(device, /*non_blocking=*/false, /*copy=*/true);
}

// Starts the copy of the step's first n packed rows to the host (done once `copied` is).
void copy_rows_out(Launched &s) {
  at::Tensor rows = s.step.packed.narrow(0, 0, s.n);
  if (rows.is_cuda()) {
#ifdef RAST_CUDA
    s.host_rows = at::empty(rows.sizes(), rows.options().device(at::kCPU).pinned_memory(true));
    s.host_rows.copy_(rows, /*non_blocking=*/true);
    s.copied.record(c10::cuda::getCurrentCUDAStream(rows.device().index()));
#endif
  } else {
    s.host_rows = rows.contiguous();
  }
}

// The step run eagerly from its kept inputs (every token known by now): a stale step, or a
// graph's step whose outputs a later replay rewrote. full_sort samples every row exactly.
void rerun(rast_group *g, Launched &s, bool full_sort) {
  const rast_batch batch = s.batch();
  StepInput in = lay_out_step_input(group_limits(g), &batch, RAST_LOGITS_LAST);
  SamplingParams p = s.params;
  p.full_sort = full_sort;
  std::vector<float> rows;
  s.step = step_rows_to_host(group_device_step(g, in, s.uniforms, p, nullptr), g, s.uniforms,
                             p, s.n, rows);
  s.host_rows = at::from_blob(rows.data(), {s.n, s.step.packed.size(1)}, at::kFloat).clone();
  s.stale = false;
}

}  // namespace

struct StepPipeline::Impl {
  mutable std::mutex mutex;  // records and `final_`: launch, try_wait and wait may overlap
  std::deque<Record> records;
  uint64_t next_id = 1;
  // The last waited step's tokens, for a launch fed from it after its wait.
  uint64_t final_id = 0;
  std::vector<int32_t> final_tokens;

  // The waited step's tokens go to the step fed from it (its rerun needs them) or, if that one
  // is not launched yet, wait in final_tokens. changed: rows whose token differs from the one
  // the device holds (the resampled ones); a launched step fed from one of them is stale.
  void settle(const Launched &s, const std::vector<int32_t> &tokens,
              const std::vector<bool> &changed) {
    final_id = s.id;
    final_tokens = tokens;
    for (const Record &r : records) {
      if (r->fed_from != s.id) continue;
      for (int64_t i = 0; i < r->n; i++) {
        const int32_t j = r->feed[i];
        if (j < 0) continue;
        r->tokens[i] = tokens[j] >= 0 ? tokens[j] : 0;  // a non-finite row's follower is dropped
        r->stale = r->stale || changed[j];
      }
    }
  }

  // Copies a waited step's rows to the caller and settles it (mutex held).
  void hand_over(rast_group *g, const Launched &s, int32_t *out_tokens, float *out_stats,
                 const std::vector<bool> &changed) {
    const int64_t width = s.width(), stats = width - 3;
    std::vector<int32_t> tokens(s.n);
    for (int64_t i = 0; i < s.n; i++) {
      const float *row = s.row(i);
      tokens[i] = static_cast<int32_t>(row[1] != 0 ? row[1] : row[0]);
      out_tokens[i] = tokens[i];
      if (out_stats) memcpy(out_stats + i * stats, row + 3, sizeof(float) * stats);
    }
    settle(s, tokens, changed);
    blocking_copies.fetch_add(1, std::memory_order_relaxed);  // the rows' copy, waited for
    rast_forward_stats cost = s.cost;
    cost.ops = s.ops;
    cost.blocking_copies = s.copies + 1;
    const int64_t now = now_ns();
    cost.ns = now - s.started_ns;
    g->stats = {s.launched_ns - s.started_ns, now - s.launched_ns, cost, s.bucket};
  }

  Record front(rast_group *g, int32_t *out_tokens, float *out_stats) const {
    if (records.empty())
      fail(RAST_E_INVALID_ARGUMENT, "No launched step to wait for; call rast_group_step_launch first");
    if (!out_tokens) fail(RAST_E_INVALID_ARGUMENT, "rast_group_step_wait: out_tokens is NULL");
    const Record &r = records.front();
    if (out_stats && !r->params.want_stats)
      fail(RAST_E_INVALID_ARGUMENT, "The step was launched without statistics; launch it with "
                                    "want_stats to receive them");
    (void)g;
    return r;
  }
};

StepPipeline::StepPipeline() : impl_(std::make_unique<Impl>()) {}
StepPipeline::~StepPipeline() = default;

int64_t StepPipeline::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<int64_t>(impl_->records.size());
}

void StepPipeline::reset() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->records.clear();
  impl_->final_id = 0;
  impl_->final_tokens.clear();
}

void StepPipeline::launch(rast_group *g, const rast_batch *batch, const int32_t *feed,
                          const uint64_t *seeds, const SamplingParams &params) {
  Impl &I = *impl_;
  const int64_t started = now_ns(), ops = ops_counted(), copies = blocking_copies.load();
  if (!batch || !batch->tokens || !batch->seq_lens || !batch->block_table || !batch->start_pos ||
      batch->n_seqs <= 0 || batch->max_blocks <= 0)
    check_batch(group_limits(g), batch, RAST_LOGITS_LAST);  // names what is missing
  auto s = std::make_shared<Launched>();
  const int64_t n = batch->n_seqs;
  s->n = n;
  s->params = params;
  s->started_ns = started;
  s->max_blocks = batch->max_blocks;
  s->seq_lens.assign(batch->seq_lens, batch->seq_lens + n);
  s->start_pos.assign(batch->start_pos, batch->start_pos + n);
  s->block_table.assign(batch->block_table, batch->block_table + n * batch->max_blocks);
  s->seeds.assign(seeds, seeds + n);
  int64_t tokens_in = 0;
  for (int64_t i = 0; i < n; i++) tokens_in += std::max<int32_t>(batch->seq_lens[i], 0);
  s->tokens.assign(batch->tokens, batch->tokens + tokens_in);

  // Which rows come from the step before: from its tokens on the host when it has been waited
  // for already, else from its samples on the device.
  Record before;
  {
    std::lock_guard<std::mutex> lock(I.mutex);
    if (I.records.size() >= 2)
      fail(RAST_E_INVALID_ARGUMENT, "Two launched steps are waiting already; wait for one first");
    if (feed) {
      const uint64_t last = I.next_id - 1;
      const int64_t rows = !I.records.empty() ? I.records.back()->n
                           : I.final_id == last ? static_cast<int64_t>(I.final_tokens.size())
                                                : 0;
      if (rows == 0)
        fail(RAST_E_INVALID_ARGUMENT, "feed names rows of the step before, but none was launched");
      s->feed.assign(feed, feed + n);
      for (int64_t i = 0; i < n; i++) {
        if (s->feed[i] < -1 || s->feed[i] >= rows)
          fail(RAST_E_INVALID_ARGUMENT, "feed[" + std::to_string(i) + "] = " +
                                            std::to_string(s->feed[i]) + " names no row of the " +
                                            std::to_string(rows) + "-row step before");
        if (s->feed[i] >= 0 && batch->seq_lens[i] != 1)
          fail(RAST_E_INVALID_ARGUMENT, "Fed sequences bring one token each (seq_lens 1)");
      }
      if (!I.records.empty()) {
        before = I.records.back();
        s->fed_from = before->id;
      } else {  // waited already: its tokens are known here
        for (int64_t i = 0; i < n; i++)
          if (s->feed[i] >= 0) s->tokens[i] = std::max(I.final_tokens[s->feed[i]], 0);
        s->feed.assign(n, -1);
      }
      if (before)
        for (int64_t i = 0; i < n; i++)
          if (s->feed[i] >= 0) s->tokens[i] = 0;  // a valid id until the true one is known
    } else {
      s->feed.assign(n, -1);
    }
  }
  const rast_batch mine = s->batch();
  const BatchLimits limits = group_limits(g);
  check_batch(limits, &mine, RAST_LOGITS_LAST);
  const at::Device device = g->base->model.device;
  const int32_t *fed = before ? s->feed.data() : nullptr;
  const at::Tensor fed_from = before ? before->step.result.tokens : at::Tensor();

  int64_t bucket = g->graphs->bucket_for(g, &mine);
  if (bucket > 0) {
    try {
      s->step = g->graphs->launch(g, &mine, s->seeds.data(), fed, fed_from, params, bucket,
                                  [&](const DeviceStep &out) {
                                    s->step = out;
                                    copy_rows_out(*s);
                                  });
      int64_t live = 0;  // flash read each sequence's live keys, no more
      for (int64_t i = 0; i < n; i++) live += int64_t(s->start_pos[i]) + 1;
      for (rast_model *h : g->models) {
        const int64_t bytes = live * ranks_kv_bytes_per_position(*h);
        s->cost.kv_read_bytes += bytes;
        s->cost.kv_live_bytes += bytes;
      }
    } catch (const std::exception &) {
      if (g->graphs->bucket_for(g, &mine) > 0) throw;
      bucket = 0;  // the capture failed and turned graphs off (rast_group_info): run eagerly
    }
  }
  if (bucket == 0) {
    s->uniforms = uniforms_of(*s, device);  // (a graph's are in its inputs; a rerun makes them)
    StepInput in = lay_out_step_input(limits, &mine, RAST_LOGITS_LAST);
    if (fed) {  // [n] the fed rows' tokens from the step before's samples
      at::Tensor rows = at::from_blob(s->feed.data(), {n}, at::kInt).to(device, at::kLong);
      in.tokens = at::where(rows >= 0, fed_from.index_select(0, rows.clamp_min(0)), in.tokens);
    }
    s->step = group_device_step(g, in, s->uniforms, params, &s->cost);
    copy_rows_out(*s);
  }
  s->bucket = bucket;
  s->launched_ns = bucket > 0 ? now_ns() : s->step.forwarded_at;
  s->ops = ops_counted() - ops;
  s->copies = blocking_copies.load() - copies;
  std::lock_guard<std::mutex> lock(I.mutex);
  s->id = I.next_id++;
  if (before && I.final_id == before->id) {  // the step before was waited for meanwhile
    for (int64_t i = 0; i < n; i++)
      if (s->feed[i] >= 0) s->tokens[i] = std::max(I.final_tokens[s->feed[i]], 0);
  }
  I.records.push_back(s);
}

bool StepPipeline::try_wait(rast_group *g, int32_t *out_tokens, float *out_stats) {
  Impl &I = *impl_;
  Record s;
  {
    std::lock_guard<std::mutex> lock(I.mutex);
    if (I.records.empty() || !out_tokens) return false;
    s = I.records.front();
    if (out_stats && !s->params.want_stats) return false;
  }
  try {
    s->wait_copy();
  } catch (...) {
    return false;  // wait() reports the device's error
  }
  std::lock_guard<std::mutex> lock(I.mutex);
  if (I.records.empty() || I.records.front() != s || s->stale || s->inexact()) return false;
  I.hand_over(g, *s, out_tokens, out_stats, std::vector<bool>(s->n, false));
  I.records.pop_front();
  return true;
}

DeviceStep StepPipeline::wait(rast_group *g, int32_t *out_tokens, float *out_stats,
                              int64_t *n_out) {
  Impl &I = *impl_;
  Record s;
  {
    std::lock_guard<std::mutex> lock(I.mutex);
    s = I.front(g, out_tokens, out_stats);
  }
  s->wait_copy();
  const int64_t ops = ops_counted(), copies = blocking_copies.load();
  // Rows whose token the step after may have taken wrongly from the device: every row of a step
  // run again (its K/V changed with its inputs), the resampled rows of an inexact one.
  std::vector<bool> changed(s->n, false);
  if (s->stale || s->inexact()) {
    if (!s->uniforms.defined()) s->uniforms = uniforms_of(*s, g->base->model.device);
    std::vector<float> before(s->row(0), s->row(0) + s->n * s->width());
    if (s->stale) {
      rerun(g, *s, /*full_sort=*/false);
      changed.assign(s->n, true);
    } else if (s->step.intact()) {
      resample_full(s->step, g, s->uniforms, s->params);
      std::vector<float> rows(before.size());
      copy_out(rows.data(), s->step.packed.narrow(0, 0, s->n));
      s->host_rows = at::from_blob(rows.data(), {s->n, s->width()}, at::kFloat).clone();
    } else {
      rerun(g, *s, /*full_sort=*/true);  // a later replay rewrote the graph's logits
    }
    for (int64_t i = 0; i < s->n; i++)
      changed[i] = changed[i] || s->row(i)[0] != before[i * s->width()];
  }
  s->ops += ops_counted() - ops;
  s->copies += blocking_copies.load() - copies;
  std::lock_guard<std::mutex> lock(I.mutex);
  I.hand_over(g, *s, out_tokens, out_stats, changed);
  I.records.pop_front();
  if (n_out) *n_out = s->n;
  return s->step;
}

}  // namespace rast
