// Tensor parallelism: one model split across `world` ranks that are threads of this process,
// one per device, joined by a c10d process group (NCCL on CUDA builds, Gloo on CPU).
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model.h"

namespace rast {

struct RankCollectives;  // the process group of one rank (tensor_parallel.cpp)

class TensorParallel {
 public:
  // Starts the rank threads, joins them in a process group and loads each rank's shard. `root`
  // (dir, cfg, dtype, device already set) becomes rank 0; rank r runs on root's device with
  // index + r on CUDA. threads_per_rank is each rank's libtorch intra-op budget.
  TensorParallel(Model &root, int world, int threads_per_rank);
  ~TensorParallel();
  TensorParallel(const TensorParallel &) = delete;
  TensorParallel &operator=(const TensorParallel &) = delete;

  int world() const { return static_cast<int>(models_.size()); }
  const Model &rank(int r) const { return *models_[r]; }

  // Runs fn(model of rank r, r) on every rank thread at once and waits for all of them;
  // rethrows the first failure.
  void run(const std::function<void(Model &, int)> &fn);

 private:
  std::vector<Model *> models_;               // [0] is the root, the rest are owned below
  std::vector<std::unique_ptr<Model>> peers_;
  std::vector<std::unique_ptr<RankCollectives>> groups_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(Model &, int)> *job_ = nullptr;
  uint64_t generation_ = 0;  // bumped per job; a thread runs each generation once
  int pending_ = 0;
  bool stopping_ = false;
  std::exception_ptr first_error_;

  void worker(int rank, int threads);
  void stop();  // ends the threads and closes the process group
};

// The c10d backends built in, e.g. "nccl,gloo" ("" when tensor parallelism is unavailable).
std::string collective_backends();

}  // namespace rast
