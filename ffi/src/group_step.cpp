// One RAST group step on the device (group.h): the models' forward passes, the non-finite check
// and rast_step, with no host synchronisation, so the same code runs eagerly and under capture.
#include <algorithm>
#include <map>

#include "group.h"

namespace rast {
namespace {

// codes: [B] int32, per row 0 when every model's logits are finite, else the code of the first
// model at fault (rast.h: -1 base, -2 - 2i positive i, -3 - 2i negative i). The non-finite
// entries are zeroed, so the other rows sample as usual.
at::Tensor nonfinite_codes(const std::vector<at::Tensor *> &all) {
  at::Tensor codes = at::zeros({all[0]->size(0)}, all[0]->options().dtype(at::kInt));
  for (size_t m = all.size(); m-- > 0;) {  // the last first, so the first at fault wins
    codes = codes.masked_fill(at::isfinite(*all[m]).all(-1).logical_not(), -1 - int64_t(m));
    *all[m] = at::nan_to_num(*all[m], 0.0, 0.0, 0.0);
  }
  return codes;
}

// packed: [B, 3 + width], see DeviceStep.
at::Tensor pack(const StepResult &r, const at::Tensor &codes) {
  at::Tensor covered = r.covered.defined() ? r.covered : at::ones_like(codes, codes.options().dtype(at::kBool));
  std::vector<at::Tensor> parts{r.tokens.to(at::kFloat).unsqueeze(1),  // ids < 2^24 are exact
                                codes.to(at::kFloat).unsqueeze(1), covered.to(at::kFloat).unsqueeze(1)};
  if (r.stats.defined()) parts.push_back(r.stats);
  return at::cat(parts, 1);
}

// values on the device through pinned memory and a non-blocking copy (a pageable one would
// wait for the steps before to finish).
template <typename T>
at::Tensor to_device(const std::vector<T> &values, at::ScalarType dtype, const at::Device &device) {
  const bool cuda = device.is_cuda();
  at::Tensor host = at::empty({static_cast<int64_t>(values.size())},
                              at::TensorOptions().dtype(dtype).pinned_memory(cuda));
  std::copy(values.begin(), values.end(), host.data_ptr<T>());
  return cuda ? host.to(device, /*non_blocking=*/true) : host;
}

}  // namespace

at::Tensor with_fed_tokens(const at::Tensor &tokens, const at::Tensor &feed,
                           const at::Tensor &fed_from) {
  return at::where(feed >= 0, fed_from.index_select(0, feed.clamp_min(0)), tokens);
}

at::Tensor step_uniforms(const rast_batch *batch, const uint64_t *seeds, const at::Device &device) {
  std::vector<double> u(batch->n_seqs);
  for (int32_t i = 0; i < batch->n_seqs; i++)
    u[i] = seeded_uniform(seeds[i], int64_t(batch->start_pos[i]) + batch->seq_lens[i]);
  return to_device(u, at::kDouble, device);
}

IssuedStep issue_group_step(rast_group *g, const rast_batch *batch, const int32_t *feed,
                            const at::Tensor &fed_from, const uint64_t *seeds,
                            const SamplingParams &params, rast_forward_stats *cost,
                            const std::function<void(const DeviceStep &)> &issued) {
  IssuedStep out;
  const int32_t n = batch->n_seqs;
  out.bucket = g->graphs->bucket_for(g, batch);
  if (out.bucket > 0) {
    try {
      out.step = g->graphs->launch(g, batch, seeds, feed, fed_from, params, out.bucket, issued);
      int64_t live = 0;  // flash read each sequence's live keys, no more
      for (int32_t i = 0; i < n; i++) live += int64_t(batch->start_pos[i]) + 1;
      for (rast_model *h : g->models) {
        const int64_t bytes = live * ranks_kv_bytes_per_position(*h);
        cost->kv_read_bytes += bytes;
        cost->kv_live_bytes += bytes;
      }
      return out;
    } catch (const std::exception &) {
      if (g->graphs->bucket_for(g, batch) > 0) throw;
      out.bucket = 0;  // the capture failed and turned graphs off (rast_group_info): run eagerly
    }
  }
  const at::Device device = g->base->model.device;
  out.uniforms = step_uniforms(batch, seeds, device);
  StepInput in = lay_out_step_input(group_limits(g), batch, RAST_LOGITS_LAST);
  if (feed) {  // [n] the fed rows' tokens from the step before's samples
    at::Tensor rows = to_device(std::vector<int64_t>(feed, feed + n), at::kLong, device);
    in.tokens = with_fed_tokens(in.tokens, rows, fed_from);
  }
  out.step = group_device_step(g, in, out.uniforms, params, cost);
  issued(out.step);
  return out;
}

BatchLimits group_limits(rast_group *g) {
  BatchLimits limits = batch_limits(g->base->model);
  for (rast_model *m : g->models) {
    const KvCache &c = m->model.cache;
    if (c.n_blocks != limits.n_blocks || c.block_size != limits.block_size)
      fail(RAST_E_CAPACITY, "The group's models have KV pools of different shapes; set them up "
                            "with rast_group_cache_init");
    limits.vocab = std::min(limits.vocab, m->model.cfg.vocab);
    limits.flash = limits.flash && flash_attends(m->model);  // else some model wants key rows
  }
  return limits;
}

DeviceStep group_device_step(rast_group *g, const StepInput &in, const at::Tensor &uniforms,
                             const SamplingParams &params, rast_forward_stats *cost) {
  const at::Device device = g->base->model.device;
  std::map<rast_model *, at::Tensor> logits;  // each model once, though it may serve several pairs
  auto run = [&](rast_model *h) {
    logits[h] = ranks_forward(*h, in).to(device);
    if (cost) {
      const int64_t per_position = ranks_kv_bytes_per_position(*h);
      cost->kv_read_bytes += in.kv_reads * per_position;
      cost->kv_live_bytes += in.kv_positions * per_position;
    }
  };
  // The pair models beside the base on a GPU, when they are whole models on its device (a split
  // model's ranks meet at collectives on their own streams).
  bool beside = device.is_cuda() && g->models.size() > 1;
  for (rast_model *h : g->models)
    beside = beside && !h->tp && h->world_model == 0 && h->model.device == device;
  run(g->base);
  auto pairs = [&] {
    for (size_t i = 1; i < g->models.size(); i++) run(g->models[i]);
  };
  if (beside) on_side_stream(g->side, device, pairs);
  else pairs();

  DeviceStep step;
  step.forwarded_at = now_ns();
  step.base = logits[g->base];
  for (size_t i = 0; i < g->pos.size(); i++) {
    step.pos.push_back(logits[g->pos[i]]);
    step.neg.push_back(logits[g->neg[i]]);
  }
  std::vector<at::Tensor *> all{&step.base};
  for (size_t i = 0; i < step.pos.size(); i++) {
    all.push_back(&step.pos[i]);
    all.push_back(&step.neg[i]);
  }
  at::Tensor codes = nonfinite_codes(all);
  step.result = rast_step(step.base, step.pos, step.neg, g->weights, uniforms, params);
  step.packed = pack(step.result, codes);
  return step;
}

void resample_full(DeviceStep &step, const rast_group *g, const at::Tensor &uniforms,
                   SamplingParams params) {
  params.full_sort = true;
  at::Tensor codes = step.packed.select(1, 1).to(at::kInt);
  step.result = rast_step(step.base, step.pos, step.neg, g->weights, uniforms, params);
  step.packed = pack(step.result, codes);
}

DeviceStep step_rows_to_host(const DeviceStep &step, const rast_group *g,
                             const at::Tensor &uniforms, const SamplingParams &params, int64_t n,
                             std::vector<float> &rows) {
  const int64_t width = step.packed.size(1);
  rows.resize(static_cast<size_t>(n * width));
  copy_out(rows.data(), step.packed.narrow(0, 0, n));
  for (int64_t i = 0; i < n; i++) {
    const float *row = &rows[i * width];
    if (row[2] == 0 && row[1] == 0) {  // a finite row whose nucleus the prefilter did not hold
      DeviceStep exact = step;
      resample_full(exact, g, uniforms, params);
      copy_out(rows.data(), exact.packed.narrow(0, 0, n));
      return exact;
    }
  }
  return step;
}

}  // namespace rast
