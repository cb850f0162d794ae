// The calls rank 0 sends across the process world, both ends: rank 0 sends a call and runs its
// own part (world_* below, from api_ranks.cpp); the other ranks run theirs in the follow loop.
// Then the C ABI of rast.h's "Ranks that are processes".
#include <cstring>
#include <map>

#include "api_util.h"
#include "process_world.h"

using namespace rast;

namespace {

enum CallKind : int64_t { kLoad = 1, kFree, kCacheInit, kCopyBlocks, kForward, kClose };

std::string world_error;  // the message of the last failed rast_world_* call

void append(std::vector<uint8_t> &out, const void *data, size_t bytes) {
  const auto *p = static_cast<const uint8_t *>(data);
  out.insert(out.end(), p, p + bytes);
}

// Copies one array back out of a payload, at a running offset.
template <typename T>
std::vector<T> take(const std::vector<uint8_t> &payload, size_t &at, int64_t n) {
  if (n < 0 || at + n * sizeof(T) > payload.size())
    fail(RAST_E_INVALID_ARGUMENT, "A call from rank 0 is shorter than it says; rebuild every "
                                  "rank from the same sources");
  std::vector<T> out(static_cast<size_t>(n));
  if (n > 0) memcpy(out.data(), payload.data() + at, n * sizeof(T));
  at += n * sizeof(T);
  return out;
}

void install_collectives(Model &m) {
  RankCollectives c = world_collectives();
  m.all_reduce = c.all_reduce;
  m.all_gather = c.all_gather;
}

// A follower's models by the id rank 0 gave them.
std::map<int64_t, std::unique_ptr<Model>> followed;

Model &followed_model(int64_t id) {
  auto it = followed.find(id);
  if (it == followed.end())
    fail(RAST_E_INVALID_ARGUMENT, "Rank 0 named model " + std::to_string(id) + ", which this "
                                  "rank never loaded; rebuild every rank from the same sources");
  return *it->second;
}

// A follower's part of one load; every rank then agrees, and the model is kept only if all
// loaded it (rank 0 reports the failure, the world goes on).
void follow_load(const WorldCall &call) {
  auto m = std::make_unique<Model>();
  std::string message;
  const int32_t code = guarded(&message, [&] {
    m->dir.assign(call.payload.begin(), call.payload.end());
    m->cfg = config_load(m->dir);
    m->dtype = static_cast<at::ScalarType>(call.args[0]);
    m->deterministic = call.args[1] != 0;
    m->fused_kernels = call.args[4] == 0;
    m->device = world_device(call.args[3] ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU));
    m->shard = Shard{world_info().rank, world_info().world};
    install_collectives(*m);
    set_threads(static_cast<int32_t>(call.args[2]));
    weights_load(*m);
  });
  if (code != RAST_OK) world_report(code, message);
  if (world_agree(code == RAST_OK)) followed[call.model] = std::move(m);
}

// Serves rank 0's calls until it closes the world; returns the exit code it hands over.
int32_t follow() {
  for (;;) {
    const WorldCall call = world_receive();
    if (call.kind == kClose) {
      world_set_over();
      return static_cast<int32_t>(call.args[0]);
    }
    if (call.kind == kLoad) {
      follow_load(call);
      continue;
    }
    std::string message;
    const int32_t code = guarded(&message, [&] {
      if (call.kind == kFree) {
        followed.erase(call.model);
        return;
      }
      Model &m = followed_model(call.model);
      size_t at = 0;
      if (call.kind == kCacheInit) {
        cache_init(m, static_cast<int32_t>(call.args[0]), static_cast<int32_t>(call.args[1]));
      } else if (call.kind == kCopyBlocks) {
        const int64_t n = call.args[0];
        std::vector<int64_t> ids = take<int64_t>(call.payload, at, 2 * n);
        at::Tensor all = at::from_blob(ids.data(), {2 * n}, at::kLong).to(m.device);
        cache_copy_blocks(m, all.narrow(0, 0, n), all.narrow(0, n, n));
      } else if (call.kind == kForward) {
        const int64_t n = call.args[0], width = call.args[1], tokens = call.args[3];
        std::vector<int32_t> seq_lens = take<int32_t>(call.payload, at, n);
        std::vector<int32_t> start_pos = take<int32_t>(call.payload, at, n);
        std::vector<int32_t> table = take<int32_t>(call.payload, at, n * width);
        std::vector<int32_t> ids = take<int32_t>(call.payload, at, tokens);
        rast_batch b{ids.data(),   seq_lens.data(),          start_pos.data(),
                     table.data(), static_cast<int32_t>(width), static_cast<int32_t>(n)};
        model_forward(m, make_step_input(batch_limits(m), &b, static_cast<int32_t>(call.args[2])));
      } else {
        fail(RAST_E_INVALID_ARGUMENT, "Rank 0 sent call kind " + std::to_string(call.kind) +
                                          ", unknown here; rebuild every rank from the same "
                                          "sources");
      }
    });
    if (call.kind == kCacheInit) {
      if (code != RAST_OK) world_report(code, message);
      world_agree(code == RAST_OK);
    } else if (code != RAST_OK) {
      world_report(code, message);
    }
    // Out of step with rank 0 now: leave, so its next collective fails and names this report.
    if (code != RAST_OK) {
      world_set_over();
      fail(code, message);
    }
  }
}

}  // namespace

namespace rast {

void world_model_load(rast_model &h, const LoadOptions &o) {
  Model &m = h.model;
  const int world = world_info().world;
  if (o.tensor_parallel != world)
    fail(RAST_E_INVALID_ARGUMENT,
         "tensorParallel " + std::to_string(o.tensor_parallel) + " does not match WORLD_SIZE=" +
             std::to_string(world) + ": across processes a model is split across every rank; "
             "pass " + std::to_string(world) + ", or 1 to keep it on rank 0");
  const bool gpus = world_collective_device().is_cuda();
  if (m.device.is_cuda() != gpus)
    fail(RAST_E_UNSUPPORTED,
         std::string("This process world joins its ranks through ") +
             (gpus ? "NCCL, between GPUs" : "Gloo, between CPUs") + ", so a split model must "
             "be on " + (gpus ? "cuda" : "cpu") + "; pick that device, or keep the model on "
             "rank 0 with tensorParallel 1");
  shard_check(m.cfg, m.dir, world);  // refused here, before any rank starts loading
  static int64_t next_id = 0;
  WorldCall call{kLoad, ++next_id, {static_cast<int64_t>(m.dtype), m.deterministic ? 1 : 0,
                                    o.threads, m.device.is_cuda() ? 1 : 0,
                                    m.fused_kernels ? 0 : 1}};
  append(call.payload, m.dir.data(), m.dir.size());
  std::exception_ptr local;
  bool all = false;
  world_guard([&] {
    world_send(call);
    try {
      m.shard = Shard{0, world};
      install_collectives(m);
      set_threads(o.threads);
      weights_load(m);
    } catch (...) {
      local = std::current_exception();
    }
    all = world_agree(!local);
  });
  if (local) std::rethrow_exception(local);
  if (!all) {
    int32_t code = RAST_E_BACKEND;
    std::string named = world_failed_rank(&code);
    fail(code, named.empty() ? "Another rank could not load \"" + m.dir + "\"; see its output"
                             : named);
  }
  h.world_model = call.model;
}

void world_model_free(rast_model &h) {
  if (h.world_model <= 0 || world_is_over()) return;
  world_guard([&] { world_send(WorldCall{kFree, h.world_model, {}, {}}); });
}

at::Tensor world_forward(rast_model &h, const StepInput &in) {
  const rast_batch &b = *in.batch;
  WorldCall call{kForward, h.world_model,
                 {b.n_seqs, b.max_blocks, in.logits_mode, in.n_tokens, 0}};
  append(call.payload, b.seq_lens, sizeof(int32_t) * b.n_seqs);
  append(call.payload, b.start_pos, sizeof(int32_t) * b.n_seqs);
  append(call.payload, b.block_table, sizeof(int32_t) * b.n_seqs * b.max_blocks);
  append(call.payload, b.tokens, sizeof(int32_t) * in.n_tokens);
  at::Tensor logits;
  world_guard([&] {
    world_send(call);
    logits = model_forward(h.model, in);
  });
  return logits;
}

void world_cache_init(rast_model &h, int32_t n_blocks, int32_t block_size) {
  world_guard([&] {
    world_send(WorldCall{kCacheInit, h.world_model, {n_blocks, block_size, 0, 0, 0}, {}});
    cache_init(h.model, n_blocks, block_size);
    if (!world_agree(true)) {
      int32_t code = RAST_E_BACKEND;
      std::string named = world_failed_rank(&code);
      fail(code, named.empty() ? "Another rank could not set up its KV cache" : named);
    }
  });
}

void world_cache_copy_blocks(rast_model &h, const std::vector<int64_t> &ids) {
  const int64_t n = static_cast<int64_t>(ids.size()) / 2;
  WorldCall call{kCopyBlocks, h.world_model, {n, 0, 0, 0, 0}};
  append(call.payload, ids.data(), sizeof(int64_t) * ids.size());
  world_guard([&] {
    world_send(call);
    at::Tensor all = at::from_blob(const_cast<int64_t *>(ids.data()), {2 * n}, at::kLong)
                         .to(h.model.device);
    cache_copy_blocks(h.model, all.narrow(0, 0, n), all.narrow(0, n, n));
  });
}

}  // namespace rast

extern "C" {

const char *rast_world_error(void) { return world_error.c_str(); }

int32_t rast_world_join(char *buf, int64_t cap, int64_t *len) {
  return guarded(&world_error, [&] {
    world_join();
    const WorldInfo &w = world_info();
    write_text("{\"rank\":" + std::to_string(w.rank) + ",\"world\":" + std::to_string(w.world) +
                   ",\"localRank\":" + std::to_string(w.local_rank) + "}",
               buf, cap, len);
  });
}

int32_t rast_world_follow(int32_t *exit_code) {
  return guarded(&world_error, [&] {
    if (!exit_code) fail(RAST_E_INVALID_ARGUMENT, "rast_world_follow: exit_code is NULL");
    if (!world_is_split() || world_info().rank == 0)
      fail(RAST_E_INVALID_ARGUMENT, "rast_world_follow is for the ranks other than 0 of a "
                                    "world joined with rast_world_join");
    try {
      *exit_code = follow();
    } catch (const Error &) {
      throw;  // this rank's own failure, already reported to rank 0
    } catch (const std::exception &e) {
      world_set_over();
      fail(RAST_E_BACKEND, "Rank 0 of the process world (" + world_info().address + ") went "
                               "away without closing it: " + first_line(e) +
                               "; see rank 0's output");
    }
  });
}

int32_t rast_world_close(int32_t exit_code) {
  return guarded(&world_error, [&] {
    if (!world_is_split() || world_info().rank != 0 || world_is_over()) return;
    world_guard([&] { world_send(WorldCall{kClose, 0, {exit_code, 0, 0, 0, 0}, {}}); });
    world_set_over();
  });
}

}  // extern "C"
