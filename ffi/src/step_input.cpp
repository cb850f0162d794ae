// A batch from the caller's ragged arrays and block tables, checked and laid out on the device:
// packed tokens, the cache row of each new token, and the rows attention reads (no padding).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "api_util.h"

namespace rast {

bool flash_attends(const Model &m) {
#if defined(RAST_CUDA) && defined(RAST_FLASH_PAGED)
  return m.device.is_cuda() && m.dtype != at::kFloat && !m.deterministic;
#else
  return false;
#endif
}

BatchLimits batch_limits(const Model &m) {
  return {m.cache.n_blocks, m.cache.block_size, m.cfg.vocab, m.device, m.deterministic,
          flash_attends(m)};
}

void check_batch(const BatchLimits &limits, const rast_batch *batch, int32_t logits_mode) {
  if (!batch || !batch->tokens || !batch->seq_lens || !batch->start_pos || !batch->block_table ||
      batch->n_seqs <= 0 || batch->max_blocks <= 0)
    fail(RAST_E_INVALID_ARGUMENT, "A batch needs tokens, seq_lens, start_pos, a block table, "
                                  "n_seqs > 0 and max_blocks > 0");
  if (limits.n_blocks == 0)
    fail(RAST_E_CAPACITY, "The KV cache is not set up; call rast_cache_init first");
  if (logits_mode < RAST_LOGITS_LAST || logits_mode > RAST_LOGITS_NONE)
    fail(RAST_E_INVALID_ARGUMENT, "logits_mode " + std::to_string(logits_mode) + " is unknown");
  const int64_t B = batch->n_seqs, bs = limits.block_size, W = batch->max_blocks;
  int64_t N = 0;
  for (int64_t i = 0; i < B; i++) {
    const int64_t len = batch->seq_lens[i], start = batch->start_pos[i], end = start + len;
    const std::string which = "Sequence " + std::to_string(i);
    if (len <= 0) fail(RAST_E_INVALID_ARGUMENT, which + " brings no tokens (seq_lens must be >= 1)");
    if (start < 0) fail(RAST_E_INVALID_ARGUMENT, which + " starts at a negative position");
    const int64_t blocks = (end + bs - 1) / bs;
    if (blocks > W)
      fail(RAST_E_CAPACITY, which + " reaches position " + std::to_string(end) + ", which needs " +
                                std::to_string(blocks) + " blocks of " + std::to_string(bs) +
                                "; its block table row holds " + std::to_string(W));
    for (int64_t j = 0; j < blocks; j++) {
      const int32_t id = batch->block_table[i * W + j];
      if (id < 0 || id >= limits.n_blocks)
        fail(RAST_E_CAPACITY, which + " names block " + std::to_string(id) +
                                  ", outside the pool's " + std::to_string(limits.n_blocks) +
                                  " blocks");
    }
    N += len;
  }
  for (int64_t k = 0; k < N; k++) {
    const int32_t id = batch->tokens[k];
    if (id < 0 || id >= limits.vocab)
      fail(RAST_E_INVALID_ARGUMENT, "Token id " + std::to_string(id) + " is outside the vocab (" +
                                        std::to_string(limits.vocab) + ")");
  }
}

StepInput make_step_input(const BatchLimits &limits, const rast_batch *batch, int32_t logits_mode) {
  check_batch(limits, batch, logits_mode);
  return lay_out_step_input(limits, batch, logits_mode);
}

StepInput lay_out_step_input(const BatchLimits &limits, const rast_batch *batch,
                             int32_t logits_mode) {
  const int64_t B = batch->n_seqs, bs = limits.block_size, W = batch->max_blocks;
  StepInput in;
  in.batch = batch;
  in.logits_mode = logits_mode;
  in.n_seqs = B;
  in.block_size = limits.block_size;
  in.decode = true;
  int64_t query_reads = 0;  // packed: every query reads the keys up to its own position
  for (int64_t i = 0; i < B; i++) {
    const int64_t len = batch->seq_lens[i], end = int64_t(batch->start_pos[i]) + len;
    in.n_tokens += len;
    in.kv_positions += end;
    query_reads += len * (end - len) + len * (len + 1) / 2;
    in.decode = in.decode && len == 1;
    in.max_q = std::max(in.max_q, len);
    in.max_k = std::max(in.max_k, end);
  }
  in.packed = in.decode || limits.deterministic;
  // Packed attention reads each query's keys; per-sequence attention each sequence's keys once.
  in.kv_reads = in.packed ? query_reads : in.kv_positions;
  // Flash attention reads the block tables itself: no per-key row lists to build and send.
  const bool rows_wanted = !limits.flash;
  auto row = [&](int64_t i, int64_t p) -> int64_t {
    return int64_t(batch->block_table[i * W + p / bs]) * bs + p % bs;
  };
  // Every index array in one host buffer, so the device gets them in one transfer.
  auto host = std::make_shared<std::vector<int64_t>>();
  std::vector<int64_t> &h = *host;
  struct Span { size_t at, n; };
  auto span_of = [&](size_t at) { return Span{at, h.size() - at}; };
  const int64_t N = in.n_tokens;
  size_t at = h.size();
  for (int64_t k = 0; k < N; k++) h.push_back(batch->tokens[k]);
  Span tokens = span_of(at);
  at = h.size();
  for (int64_t i = 0; i < B; i++)
    for (int64_t t = 0; t < batch->seq_lens[i]; t++) h.push_back(batch->start_pos[i] + t);
  Span positions = span_of(at);
  at = h.size();
  for (int64_t i = 0; i < B; i++)
    for (int64_t t = 0; t < batch->seq_lens[i]; t++) h.push_back(row(i, batch->start_pos[i] + t));
  Span write_rows = span_of(at);
  at = h.size();
  for (int64_t i = 0, k = 0; i < B; k += batch->seq_lens[i], i++) {
    if (logits_mode == RAST_LOGITS_ALL)
      for (int64_t t = 0; t < batch->seq_lens[i]; t++) h.push_back(k + t);
    else h.push_back(k + batch->seq_lens[i] - 1);
  }
  Span rows = span_of(at);
  Span kv_rows{0, 0}, kv_query{0, 0};
  std::vector<Span> seq_rows;
  if (in.packed) {
    at = h.size();
    if (rows_wanted)
      for (int64_t i = 0; i < B; i++)
        for (int64_t t = 0, p0 = batch->start_pos[i]; t < batch->seq_lens[i]; t++)
          for (int64_t p = 0; p <= p0 + t; p++) h.push_back(row(i, p));
    kv_rows = span_of(at);
    at = h.size();
    if (rows_wanted)
      for (int64_t i = 0, k = 0; i < B; i++)
        for (int64_t t = 0, p0 = batch->start_pos[i]; t < batch->seq_lens[i]; t++, k++)
          h.insert(h.end(), p0 + t + 1, k);
    kv_query = span_of(at);
  } else {
    for (int64_t i = 0; i < B; i++) {
      at = h.size();
      const int64_t end = int64_t(batch->start_pos[i]) + batch->seq_lens[i];
      if (rows_wanted)
        for (int64_t p = 0; p < end; p++) h.push_back(row(i, p));
      seq_rows.push_back(span_of(at));
    }
    for (int64_t i = 0, k = 0; i < B; k += batch->seq_lens[i], i++) {
      in.q_start.push_back(k);
      in.q_len.push_back(batch->seq_lens[i]);
      in.kv_len.push_back(int64_t(batch->start_pos[i]) + batch->seq_lens[i]);
    }
  }
  at::Tensor all = at::from_blob(h.data(), {static_cast<int64_t>(h.size())}, at::kLong);
  if (limits.device.is_cuda()) {
    // Pinned staging and a non-blocking copy: the step does not wait for its inputs.
    at::Tensor pinned = at::empty_like(all, all.options().pinned_memory(true)).copy_(all);
    all = pinned.to(limits.device, /*non_blocking=*/true);
  } else {
    in.host = host;  // the CPU tensors are views of the host buffer
  }
  auto view = [&](Span s) { return all.narrow(0, static_cast<int64_t>(s.at), static_cast<int64_t>(s.n)); };
  in.tokens = view(tokens);
  in.positions = view(positions);
  in.write_rows = view(write_rows);
  in.rows = view(rows);
  if (in.packed) {
    in.kv_rows = view(kv_rows);
    in.kv_query = view(kv_query);
  }
  for (Span s : seq_rows) in.seq_kv_rows.push_back(view(s));
  if (limits.device.is_cuda()) {
    // Flash's paged path: int32 block table, per-sequence key counts, cumulative lengths.
    std::vector<int32_t> ints(batch->block_table, batch->block_table + B * W);
    int64_t q_sum = 0, k_sum = 0;
    std::vector<int32_t> used, cu_q{0}, cu_k{0};
    for (int64_t i = 0; i < B; i++) {
      const int32_t end = batch->start_pos[i] + batch->seq_lens[i];
      used.push_back(end);
      cu_q.push_back(static_cast<int32_t>(q_sum += batch->seq_lens[i]));
      cu_k.push_back(static_cast<int32_t>(k_sum += end));
    }
    ints.insert(ints.end(), used.begin(), used.end());
    ints.insert(ints.end(), cu_q.begin(), cu_q.end());
    ints.insert(ints.end(), cu_k.begin(), cu_k.end());
    at::Tensor packed = at::from_blob(ints.data(), {static_cast<int64_t>(ints.size())}, at::kInt);
    at::Tensor dev = at::empty_like(packed, packed.options().pinned_memory(true))
                         .copy_(packed)
                         .to(limits.device, /*non_blocking=*/true);
    in.block_table = dev.narrow(0, 0, B * W).view({B, W});
    in.seqused_k = dev.narrow(0, B * W, B);
    in.cu_seqlens_q = dev.narrow(0, B * W + B, B + 1);
    in.cu_seqlens_k = dev.narrow(0, B * W + 2 * B + 1, B + 1);
  }
  return in;
}

}  // namespace rast
