// Pipelined decode steps (step_pipeline.h): the launched steps' records, their launch through a
// CUDA graph or eagerly, and the hand-over of their rows.
#include "step_pipeline.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>

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
  // Rows whose token the step after may have taken wrongly from the device: every row of a step
  // run again (its K/V changed with its inputs), the resampled rows of an inexact one.
  std::vector<bool> changed;
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

// A packed row's token, or its non-finite code (rast.h's negative ids).
int32_t row_token(const float *row) { return static_cast<int32_t>(row[1] != 0 ? row[1] : row[0]); }

// Gives r's fed rows their tokens from the step before's (a non-finite row's follower gets a
// valid id: the caller drops it).
void fill_fed(Launched &r, const std::vector<int32_t> &tokens) {
  for (int64_t i = 0; i < r.n; i++)
    if (r.feed[i] >= 0) r.tokens[i] = std::max(tokens[r.feed[i]], 0);
}

// Whether a step's fed tokens are taken on the host rather than on the device: by default on a
// CPU (the step before is done when its launch returns), and always where ranks in other
// processes are sent the batch's tokens.
bool host_fed(const rast_group *g) {
  for (const rast_model *h : g->models)
    if (h->world_model > 0) return true;
  const int32_t setting = g->graphs->settings().device_feed;
  return setting < 0 ? !g->base->model.device.is_cuda() : setting == 0;
}

at::Tensor uniforms_of(const Launched &s, const at::Device &device) {
  const rast_batch batch = s.batch();
  return step_uniforms(&batch, s.seeds.data(), device);
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

// A step's corrected outputs: its rows resampled with the full sort, or the step run again.
struct Corrected {
  DeviceStep step;
  at::Tensor rows;  // [n, width] float32 on the host
  bool rerun = false;
};

// The step run eagerly from its kept inputs (every token known by now): a stale step, or a
// graph's step whose outputs a later replay rewrote. full_sort samples every row exactly.
Corrected rerun(rast_group *g, const Launched &s, const at::Tensor &uniforms, bool full_sort) {
  const rast_batch batch = s.batch();
  StepInput in = lay_out_step_input(group_limits(g), &batch, RAST_LOGITS_LAST);
  SamplingParams p = s.params;
  p.full_sort = full_sort;
  std::vector<float> rows;
  Corrected c;
  c.step = step_rows_to_host(group_device_step(g, in, uniforms, p, nullptr), g, uniforms, p,
                             s.n, rows);
  c.rows = at::from_blob(rows.data(), {s.n, c.step.packed.size(1)}, at::kFloat).clone();
  c.rerun = true;
  return c;
}

// On the compute thread, for a step whose rows are on the host: nothing when they are exact as
// sampled, else its corrected outputs.
std::optional<Corrected> correct(rast_group *g, const Launched &s, at::Tensor &uniforms) {
  if (!s.stale && !s.inexact()) return std::nullopt;
  if (!uniforms.defined()) uniforms = uniforms_of(s, g->base->model.device);
  if (s.stale) return rerun(g, s, uniforms, /*full_sort=*/false);
  if (!s.step.intact()) return rerun(g, s, uniforms, /*full_sort=*/true);  // logits rewritten
  Corrected c;
  c.step = s.step;
  resample_full(c.step, g, uniforms, s.params);
  std::vector<float> rows(static_cast<size_t>(s.n * s.width()));
  copy_out(rows.data(), c.step.packed.narrow(0, 0, s.n));
  c.rows = at::from_blob(rows.data(), {s.n, s.width()}, at::kFloat).clone();
  return c;
}

}  // namespace

struct StepPipeline::Impl {
  mutable std::mutex mutex;  // records and `final_`: launch, try_wait and wait may overlap
  std::deque<Record> records;
  uint64_t next_id = 1;
  // The last waited step's tokens, for a launch fed from it after its wait.
  uint64_t final_id = 0;
  std::vector<int32_t> final_tokens;
  int64_t resampled = 0, reruns = 0;  // rast_group_info's figures (mutex held)

  // The waited step's tokens go to the step fed from it (its rerun needs them) or, if that one
  // is not launched yet, wait in final_tokens. changed: rows whose token differs from the one
  // the device holds (the resampled ones); a launched step fed from one of them is stale.
  void settle(const Launched &s, const std::vector<int32_t> &tokens,
              const std::vector<bool> &changed) {
    final_id = s.id;
    final_tokens = tokens;
    for (const Record &r : records) {
      if (r->fed_from != s.id) continue;
      fill_fed(*r, tokens);
      for (int64_t i = 0; i < r->n; i++)
        r->stale = r->stale || (r->feed[i] >= 0 && changed[r->feed[i]]);
    }
  }

  // Copies a waited step's rows to the caller and settles it (mutex held).
  void hand_over(rast_group *g, const Launched &s, int32_t *out_tokens, float *out_stats) {
    const int64_t width = s.width(), stats = width - 3;
    std::vector<int32_t> tokens(s.n);
    for (int64_t i = 0; i < s.n; i++) {
      tokens[i] = out_tokens[i] = row_token(s.row(i));
      if (out_stats) memcpy(out_stats + i * stats, s.row(i) + 3, sizeof(float) * stats);
    }
    settle(s, tokens, s.changed);
    rast_forward_stats cost = s.cost;
    cost.ops = s.ops;
    // The compute thread's blocking copies, and the rows' copy, waited for here. (The global
    // counter is only moved on the compute thread, so launches beside this wait count right.)
    cost.blocking_copies = s.copies + 1;
    const int64_t now = now_ns();
    cost.ns = now - s.started_ns;
    g->stats = {s.launched_ns - s.started_ns, now - s.launched_ns, cost, s.bucket};
  }

  // Puts a correction in place (mutex held): the rows the step after must not have taken.
  void commit(Launched &s, Corrected c) {
    std::vector<bool> changed(s.n, s.stale);
    for (int64_t i = 0; i < s.n; i++)
      changed[i] = changed[i] || c.rows.data_ptr<float>()[i * c.rows.size(1)] != s.row(i)[0];
    resampled += s.stale ? 0 : 1;
    reruns += c.rerun ? 1 : 0;
    s.step = std::move(c.step);
    s.host_rows = std::move(c.rows);
    s.stale = false;
    for (int64_t i = 0; i < s.n; i++) s.changed[i] = s.changed[i] || changed[i];
  }

  // On the compute thread: corrects a step now (its rows are on the host or soon will be), so
  // the step after can take its tokens from the host.
  void settle_early(rast_group *g, Launched &s) {
    s.wait_copy();
    at::Tensor uniforms = s.uniforms;
    std::optional<Corrected> c = correct(g, s, uniforms);
    std::lock_guard<std::mutex> lock(mutex);
    s.uniforms = uniforms;
    if (c) commit(s, std::move(*c));
  }

  Record front(int32_t *out_tokens, float *out_stats) const {
    if (records.empty())
      fail(RAST_E_INVALID_ARGUMENT, "No launched step to wait for; call rast_group_step_launch first");
    if (!out_tokens) fail(RAST_E_INVALID_ARGUMENT, "rast_group_step_wait: out_tokens is NULL");
    const Record &r = records.front();
    if (out_stats && !r->params.want_stats)
      fail(RAST_E_INVALID_ARGUMENT, "The step was launched without statistics; launch it with "
                                    "want_stats to receive them");
    return r;
  }
};

StepPipeline::StepPipeline() : impl_(std::make_unique<Impl>()) {}
StepPipeline::~StepPipeline() = default;

int64_t StepPipeline::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<int64_t>(impl_->records.size());
}

std::string StepPipeline::info_json() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return "{\"resampled\":" + std::to_string(impl_->resampled) + ",\"rerun\":" +
         std::to_string(impl_->reruns) + "}";
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
  s->changed.assign(n, false);
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
        fill_fed(*s, I.final_tokens);
        s->feed.assign(n, -1);
      }
      if (before)
        for (int64_t i = 0; i < n; i++)
          if (s->feed[i] >= 0) s->tokens[i] = 0;  // a valid id until the true one is known
    } else {
      s->feed.assign(n, -1);
    }
  }
  // Where the fed tokens must be on the host (a CPU group, whose step before is done already;
  // ranks in other processes, which are sent the batch's tokens) the step before is settled now
  // and its tokens are read from its rows.
  if (before && host_fed(g)) {
    I.settle_early(g, *before);
    std::lock_guard<std::mutex> lock(I.mutex);
    std::vector<int32_t> tokens(before->n);
    for (int64_t j = 0; j < before->n; j++) tokens[j] = row_token(before->row(j));
    fill_fed(*s, tokens);
    s->feed.assign(n, -1);
    s->fed_from = 0;
    before.reset();
  }
  const rast_batch mine = s->batch();
  check_batch(group_limits(g), &mine, RAST_LOGITS_LAST);
  const int32_t *fed = before ? s->feed.data() : nullptr;
  const at::Tensor fed_from = before ? before->step.result.tokens : at::Tensor();
  IssuedStep issued = issue_group_step(g, &mine, fed, fed_from, s->seeds.data(), params, &s->cost,
                                       [&](const DeviceStep &out) {
                                         s->step = out;
                                         copy_rows_out(*s);
                                       });
  s->uniforms = issued.uniforms;
  s->bucket = issued.bucket;
  s->launched_ns = s->bucket > 0 ? now_ns() : s->step.forwarded_at;
  s->ops = ops_counted() - ops;
  s->copies = blocking_copies.load() - copies;
  std::lock_guard<std::mutex> lock(I.mutex);
  s->id = I.next_id++;
  if (before && I.final_id == before->id) fill_fed(*s, I.final_tokens);  // waited meanwhile
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
  I.hand_over(g, *s, out_tokens, out_stats);
  I.records.pop_front();
  return true;
}

DeviceStep StepPipeline::wait(rast_group *g, int32_t *out_tokens, float *out_stats,
                              int64_t *n_out) {
  Impl &I = *impl_;
  Record s;
  {
    std::lock_guard<std::mutex> lock(I.mutex);
    s = I.front(out_tokens, out_stats);
  }
  s->wait_copy();
  const int64_t ops = ops_counted(), copies = blocking_copies.load();
  std::optional<Corrected> c = correct(g, *s, s->uniforms);
  s->ops += ops_counted() - ops;
  s->copies += blocking_copies.load() - copies;
  std::lock_guard<std::mutex> lock(I.mutex);
  if (c) I.commit(*s, std::move(*c));
  I.hand_over(g, *s, out_tokens, out_stats);
  I.records.pop_front();
  if (n_out) *n_out = s->n;
  return s->step;
}

}  // namespace rast
