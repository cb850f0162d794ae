// Tensor parallelism over c10d. Each rank is a persistent thread holding one Model shard (see
// weights.cpp for the slicing) with its own device (CUDA: one GPU each, so its own default
// stream) and its own libtorch thread budget. The ranks of a model meet through an in-process
// HashStore and talk through ProcessGroupNCCL (CUDA builds) or ProcessGroupGloo over loopback
// TCP (CPU builds); model.cpp calls the all-reduce / all-gather installed here.
#include "tensor_parallel.h"

#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/InferenceMode.h>

#include <chrono>

#include "collectives.h"
#include "error.h"

#if defined(RAST_TP_GLOO) || defined(RAST_TP_NCCL)
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#endif

namespace rast {

namespace {

// Longest wait for the other ranks at a collective (or at start-up) before giving up, so a
// rank that failed alone turns into an error instead of a hang.
constexpr std::chrono::milliseconds kCollectiveTimeout = std::chrono::minutes(5);

// What the ranks of one model share to find each other.
struct Rendezvous {
#if defined(RAST_TP_GLOO) || defined(RAST_TP_NCCL)
  c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::HashStore>();
#endif
#ifdef RAST_TP_GLOO
  std::shared_ptr<::gloo::transport::Device> loopback;
#endif
};

#ifdef RAST_TP_GLOO
// One loopback TCP device (one event-loop thread) for every CPU rank of every model: with a
// device per model, switching between split models (a RAST step runs three) woke more threads
// and made each collective several times slower. Never freed, so exit never waits on it.
std::shared_ptr<::gloo::transport::Device> loopback_device() {
  static auto *device = new std::shared_ptr<::gloo::transport::Device>(
      c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  return *device;
}
#endif

// Joins rank `rank` to the process group; every rank must call it at the same time.
RankCollectives connect(int rank, int world, const at::Device &device, Rendezvous &rv) {
#ifdef RAST_TP_NCCL
  if (device.is_cuda()) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = kCollectiveTimeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(rv.store, rank, world, options);
    return bind(group, world, /*gloo=*/false);
  }
#endif
#ifdef RAST_TP_GLOO
  if (device.is_cpu()) {
    auto options = c10d::ProcessGroupGloo::Options::create(kCollectiveTimeout);
    options->devices.push_back(rv.loopback);
    options->threads = 1;  // each rank waits on every collective: one worker is enough
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(rv.store, rank, world, options);
    return bind(group, world, /*gloo=*/true);
  }
#endif
  fail(RAST_E_UNSUPPORTED, "No collective library for tensor parallelism on " + device.str() +
                               " in this build");
}

// Refuses, before any thread starts, a device this build cannot split a model across.
void check_backend(const at::Device &device, int first, int world) {
  if (device.is_cuda()) {
#ifndef RAST_TP_NCCL
    fail(RAST_E_UNSUPPORTED, "Tensor parallelism on " + device.str() + " needs a shim built "
                             "with NCCL; rebuild against a CUDA libtorch with nccl.h on the "
                             "include path (ffi/Makefile finds pip's nvidia/nccl)");
#endif
    const int gpus = static_cast<int>(at::getNumGPUs());
    if (first + world > gpus)
      fail(RAST_E_INVALID_ARGUMENT, "Tensor-parallel size " + std::to_string(world) +
                                        " from " + device.str() + " needs GPUs " +
                                        std::to_string(first) + ".." +
                                        std::to_string(first + world - 1) + " but " +
                                        std::to_string(gpus) + " are visible; use a smaller size");
    return;
  }
#ifndef RAST_TP_GLOO
  fail(RAST_E_UNSUPPORTED, "Tensor parallelism on cpu needs a shim built with Gloo; "
                           "install the gloo headers (Debian: libgloo-dev) and rebuild");
#endif
}

}  // namespace

std::string collective_backends() {
  std::string names;
#ifdef RAST_TP_NCCL
  names += "nccl";
#endif
#ifdef RAST_TP_GLOO
  names += std::string(names.empty() ? "" : ",") + "gloo";
#endif
  return names;
}

TensorParallel::TensorParallel(Model &root, int world, int threads_per_rank) {
  shard_check(root.cfg, root.dir, world);
  const bool cuda = root.device.is_cuda();
  const int first = cuda ? std::max<int>(0, root.device.index()) : 0;
  check_backend(root.device, first, world);
  models_.push_back(&root);
  for (int r = 1; r < world; r++) {
    peers_.push_back(std::make_unique<Model>());
    Model &peer = *peers_.back();
    peer.dir = root.dir;
    peer.cfg = root.cfg;
    peer.dtype = root.dtype;
    peer.deterministic = root.deterministic;
    peer.fused_kernels = root.fused_kernels;
    peer.random_weights = root.random_weights;
    models_.push_back(&peer);
  }
  for (int r = 0; r < world; r++) {
    models_[r]->shard = Shard{r, world};
    models_[r]->device = cuda ? at::Device(at::kCUDA, first + r) : root.device;
  }
  groups_.resize(world);
  Rendezvous rv;
#ifdef RAST_TP_GLOO
  if (!cuda) rv.loopback = loopback_device();
#endif
  try {
    for (int r = 0; r < world; r++)
      threads_.emplace_back(&TensorParallel::worker, this, r, std::max(1, threads_per_rank));
    run([&](Model &m, int r) {
      groups_[r] = std::make_unique<RankCollectives>(connect(r, world, m.device, rv));
      m.all_reduce = groups_[r]->all_reduce;
      m.all_gather = groups_[r]->all_gather;
    });
    run([](Model &m, int) { weights_load(m); });  // each rank reads only its slices
  } catch (...) {
    stop();
    throw;
  }
}

TensorParallel::~TensorParallel() { stop(); }

void TensorParallel::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread &t : threads_) t.join();
  threads_.clear();
  for (Model *m : models_) {  // drop the models' references so the groups close here
    m->all_reduce = [](at::Tensor &) {};
    m->all_gather = [](const at::Tensor &t, int64_t) { return t; };
  }
  groups_.clear();
}

void TensorParallel::run(const std::function<void(Model &, int)> &fn) {
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = &fn;
  pending_ = world();
  first_error_ = nullptr;
  generation_++;
  wake_.notify_all();
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
  // The first failure in time is the cause; ranks left waiting at a collective fail later.
  if (first_error_) std::rethrow_exception(first_error_);
}

void TensorParallel::worker(int rank, int threads) {
  at::set_num_threads(threads);  // OpenMP's budget is per thread: this rank's share of the cores
  c10::InferenceMode inference;
  c10::DeviceGuard device(models_[rank]->device);
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const std::function<void(Model &, int)> *fn = job_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*fn)(*models_[rank], rank);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !first_error_) first_error_ = error;
    if (--pending_ == 0) done_.notify_all();
  }
}

}  // namespace rast
