// The process world (process_world.h): torchrun's environment, the TCPStore rendezvous, the
// control and model groups, and how their failures become one-line errors.
#include "process_world.h"

#include <c10/core/InferenceMode.h>
#include <c10/util/Logging.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "error.h"

#ifdef RAST_TP_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#endif

namespace rast {

namespace {

WorldInfo info;  // set once by world_join, on the compute thread
bool joined = false;
bool over = false;        // closed, or lost
std::string lost_reason;  // why the world was lost ("" while it is live or closed cleanly)
std::chrono::milliseconds timeout{0};

#ifdef RAST_TP_GLOO
c10::intrusive_ptr<c10d::Store> store;  // the rast/<attempt>/ keys of the TCPStore
c10::intrusive_ptr<c10d::ProcessGroupGloo> control;  // rank 0's calls, one way
RankCollectives model_collectives;                   // the shards' collectives, and agreeing
at::Device model_device = at::kCPU;                  // where those collectives run
#endif

// A follower waits for rank 0's next call as long as rank 0 is there (a lost connection ends
// the wait at once); a year stands for "no timeout". The control group carries only rank 0's
// sends, which never wait for a follower, so rank 0 itself always waits at most `timeout`: at
// the model group's collectives, which every call that needs the followers' part meets (torch
// 1.13's Gloo takes a group's timeout for every operation, so the two get two groups).
constexpr std::chrono::milliseconds kFollowWait = std::chrono::hours(24 * 365);

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

// An integer environment variable in [low, high]; `fallback` when unset and not required.
int env_int(const char *name, int low, int high, int fallback, bool required) {
  const std::string text = env(name);
  const std::string fix = "; launch every rank with torchrun (or set WORLD_SIZE, RANK, "
                          "LOCAL_RANK, MASTER_ADDR and MASTER_PORT, as in README.md)";
  if (text.empty()) {
    if (required) fail(RAST_E_INVALID_ARGUMENT, std::string(name) + " is not set" + fix);
    return fallback;
  }
  char *end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (*end != 0 || v < low || v > high)
    fail(RAST_E_INVALID_ARGUMENT, std::string(name) + "=\"" + text + "\" is not a whole number "
                                      "from " + std::to_string(low) + " to " +
                                      std::to_string(high) + fix);
  return static_cast<int>(v);
}

std::string seconds(std::chrono::milliseconds t) {
  return std::to_string(t.count() / 1000) + " s";
}

#ifdef RAST_TP_GLOO
// The network device Gloo talks through: GLOO_SOCKET_IFNAME's interface when set (as torch's
// own launcher reads it), loopback when the master is local, else the host name's address.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string &master) {
  const std::string ifname = env("GLOO_SOCKET_IFNAME");
  if (!ifname.empty())
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname.substr(0, ifname.find(',')));
  if (master == "localhost" || master.rfind("127.", 0) == 0 || master == "::1")
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo_group(const std::string &prefix,
                                                      const std::string &master,
                                                      std::chrono::milliseconds wait) {
  auto options = c10d::ProcessGroupGloo::Options::create(wait);
  options->devices.push_back(gloo_device(master));
  options->threads = 1;  // every call waits on its collective: one worker is enough
  return c10::make_intrusive<c10d::ProcessGroupGloo>(
      c10::make_intrusive<c10d::PrefixStore>(prefix, store), info.rank, info.world, options);
}

at::Tensor ordinary(at::IntArrayRef shape, at::ScalarType type) {
  // Gloo fills buffers on its own thread, outside InferenceMode: they must be normal tensors.
  c10::InferenceMode normal_tensors(false);
  return at::zeros(shape, at::TensorOptions().dtype(type));
}

void broadcast(at::Tensor &t) {
  std::vector<at::Tensor> bufs{t};
  c10d::BroadcastOptions options;
  options.rootRank = 0;
  control->broadcast(bufs, options)->wait();
}
#endif

[[maybe_unused]] const char *kMissingGloo = "Ranks across processes need a shim built with Gloo; install the gloo "
                           "headers (Debian: libgloo-dev) and rebuild";

}  // namespace

std::string first_line(const std::exception &e) {
  const auto *c10 = dynamic_cast<const c10::Error *>(&e);
  std::string text = c10 ? c10->what_without_backtrace() : e.what();
  const size_t end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

const WorldInfo &world_info() { return info; }

void world_join() {
  if (joined) fail(RAST_E_INVALID_ARGUMENT, "This process has already joined its world");
  const int world = env_int("WORLD_SIZE", 1, 65536, 1, /*required=*/false);
  if (world == 1) {
    joined = true;
    return;
  }
  WorldInfo w;
  w.world = world;
  w.rank = env_int("RANK", 0, world - 1, 0, /*required=*/true);
  w.local_rank = env_int("LOCAL_RANK", 0, 65535, 0, /*required=*/false);
  const std::string master = env("MASTER_ADDR");
  if (master.empty())
    fail(RAST_E_INVALID_ARGUMENT, "MASTER_ADDR is not set; set it to rank 0's host (torchrun "
                                  "and the README's srun line do)");
  const int port = env_int("MASTER_PORT", 1, 65535, 0, /*required=*/true);
  w.address = master + ":" + std::to_string(port);
  timeout = std::chrono::seconds(env_int("RAST_WORLD_TIMEOUT", 1, 86400, 300, false));
#ifndef RAST_TP_GLOO
  fail(RAST_E_UNSUPPORTED, kMissingGloo);
#else
  info = w;
  // c10d logs what the messages below say in one line; libtorch reads TORCH_CPP_LOG_LEVEL
  // (engine/world.ts sets FATAL unless the user chose) only when asked to.
  c10::initLogging();
  // torchrun's agent may host the store itself; then every worker is its client.
  const bool agent_store = env("TORCHELASTIC_USE_AGENT_STORE") == "True";
  const std::string where = "WORLD_SIZE=" + std::to_string(world) + " at MASTER_ADDR:MASTER_PORT=" +
                            w.address;
  c10::intrusive_ptr<c10d::Store> tcp;
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = w.rank == 0 && !agent_store;
    options.waitWorkers = false;  // counted below, the same way in every torch version
    options.timeout = timeout;
#if TORCH_VERSION_MAJOR >= 2
    // The libuv server of torch 2.x crashes inside a Deno process (Deno's own threads take the
    // SIGSEGV); the classic socket server does not.
    options.useLibUV = false;
#endif
    tcp = c10::make_intrusive<c10d::TCPStore>(master, options);
  } catch (const std::exception &e) {
    info = WorldInfo{};
    const std::string who = w.rank == 0 && !agent_store
                                ? "Rank 0 hosting the rendezvous"
                                : "Rank " + std::to_string(w.rank);
    fail(RAST_E_BACKEND, who + " gave up (" + where + "): " + first_line(e) +
                             "; start every rank within RAST_WORLD_TIMEOUT (" +
                             seconds(timeout) + ") with the same MASTER_ADDR, MASTER_PORT and "
                             "WORLD_SIZE, and a free port");
  }
  const std::string attempt = env("TORCHELASTIC_RESTART_COUNT");
  store = c10::make_intrusive<c10d::PrefixStore>(
      "rast/" + (attempt.empty() ? std::string("0") : attempt), tcp);
  // Every rank counts itself in and waits for the rest: whatever the store's own waiting does
  // in this torch version, a missing rank becomes this message, with the count.
  int64_t arrived = 0;
  try {
    arrived = store->add("arrived", 1);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (arrived < world && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      arrived = store->add("arrived", 0);
    }
  } catch (const std::exception &e) {
    info = WorldInfo{};
    store.reset();
    fail(RAST_E_BACKEND, "Rank " + std::to_string(w.rank) + " lost the rendezvous (" + where +
                             "): " + first_line(e) + "; see rank 0's output");
  }
  if (arrived < world) {
    info = WorldInfo{};
    store.reset();
    fail(RAST_E_BACKEND, "Only " + std::to_string(arrived) + " of the WORLD_SIZE=" +
                             std::to_string(world) + " ranks came to MASTER_ADDR:MASTER_PORT=" +
                             w.address + " within RAST_WORLD_TIMEOUT (" + seconds(timeout) +
                             "); start every rank with the same MASTER_ADDR, MASTER_PORT and "
                             "WORLD_SIZE");
  }
  try {
#ifdef RAST_TP_NCCL
    if (at::hasCUDA()) {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          c10::make_intrusive<c10d::PrefixStore>("model", store), w.rank, world, options);
      model_collectives = bind(group, world, /*gloo=*/false);
      model_device = world_device(at::Device(at::kCUDA, 0));
    } else
#endif
      model_collectives = bind(gloo_group("model", master, timeout), world, /*gloo=*/true);
    // Everyone is connected (NCCL connects here, at its first collective) before the control
    // group, whose own connecting would wait as long as a follower does.
    if (!world_agree(true)) fail(RAST_E_BACKEND, "a rank failed while connecting");
    control = gloo_group("control", master, kFollowWait);
  } catch (const std::exception &e) {
    info = WorldInfo{};
    control.reset();
    store.reset();
    fail(RAST_E_BACKEND, "Rank " + std::to_string(w.rank) + " could not connect to the other "
                             "ranks (" + where + "): " + first_line(e) + "; check that the "
                             "nodes reach each other (GLOO_SOCKET_IFNAME names the interface)");
  }
  joined = true;
#endif
}

at::Device world_device(const at::Device &asked) {
  if (!world_is_split() || !asked.is_cuda()) return asked;
  // torchrun shows each process every GPU of its node (its own: LOCAL_RANK); srun with
  // --gpus-per-task shows it only its own, as cuda:0.
  const int gpus = static_cast<int>(at::getNumGPUs());
  const int index = gpus == 1 ? 0 : info.local_rank;
  if (index >= gpus)
    fail(RAST_E_INVALID_ARGUMENT, "LOCAL_RANK=" + std::to_string(info.local_rank) + " names GPU " +
                                      std::to_string(index) + " but this process sees " +
                                      std::to_string(gpus) + "; start at most that many ranks "
                                      "per node (or one GPU per task)");
  return at::Device(at::kCUDA, index);
}

RankCollectives world_collectives() {
#ifdef RAST_TP_GLOO
  return model_collectives;
#else
  fail(RAST_E_UNSUPPORTED, kMissingGloo);
#endif
}

at::Device world_collective_device() {
#ifdef RAST_TP_GLOO
  return model_device;
#else
  return at::kCPU;
#endif
}

void world_send(const WorldCall &call) {
  world_check_live();
#ifdef RAST_TP_GLOO
  at::Tensor header = ordinary({8}, at::kLong);
  int64_t *h = header.data_ptr<int64_t>();
  h[0] = call.kind;
  h[1] = call.model;
  for (int i = 0; i < 5; i++) h[2 + i] = call.args[i];
  h[7] = static_cast<int64_t>(call.payload.size());
  broadcast(header);
  if (call.payload.empty()) return;
  at::Tensor payload = ordinary({h[7]}, at::kByte);
  memcpy(payload.data_ptr<uint8_t>(), call.payload.data(), call.payload.size());
  broadcast(payload);
#endif
}

WorldCall world_receive() {
  WorldCall call;
#ifdef RAST_TP_GLOO
  at::Tensor header = ordinary({8}, at::kLong);
  broadcast(header);
  const int64_t *h = header.data_ptr<int64_t>();
  call.kind = h[0];
  call.model = h[1];
  for (int i = 0; i < 5; i++) call.args[i] = h[2 + i];
  if (h[7] > 0) {
    at::Tensor payload = ordinary({h[7]}, at::kByte);
    broadcast(payload);
    const uint8_t *p = payload.data_ptr<uint8_t>();
    call.payload.assign(p, p + h[7]);
  }
#endif
  return call;
}

bool world_agree(bool ok) {
#ifdef RAST_TP_GLOO
  // The failed ranks count, summed over the model group (whose collectives time out).
  at::Tensor failed = at::full({1}, ok ? 0.0 : 1.0, at::TensorOptions().device(model_device));
  model_collectives.all_reduce(failed);
  return failed.item<double>() == 0;
#else
  return ok;
#endif
}

void world_report(int32_t code, const std::string &message) {
#ifdef RAST_TP_GLOO
  try {
    const std::string text = std::to_string(code) + " " + message;
    store->set("error/" + std::to_string(info.rank),
               std::vector<uint8_t>(text.begin(), text.end()));
  } catch (const std::exception &) {
    // The store is gone with rank 0; the follower's own output still says what failed.
  }
#endif
}

std::string world_failed_rank(int32_t *code) {
#ifdef RAST_TP_GLOO
  // A follower's report may still be on its way when its connection drops: give it a moment.
  for (int attempt = 0; attempt < 20; attempt++) {
    for (int r = 1; r < info.world; r++) {
      const std::string key = "error/" + std::to_string(r);
      try {
        if (!store->check({key})) continue;
        std::vector<uint8_t> bytes = store->get(key);
        store->deleteKey(key);
        const std::string text(bytes.begin(), bytes.end());
        const size_t space = text.find(' ');
        if (code) *code = static_cast<int32_t>(std::strtol(text.c_str(), nullptr, 10));
        return "Rank " + std::to_string(r) + " of the process world failed: " +
               (space == std::string::npos ? text : text.substr(space + 1));
      } catch (const std::exception &) {
        return "";
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
#endif
  return "";
}

void world_check_live() {
  if (!lost_reason.empty()) fail(RAST_E_BACKEND, lost_reason);
  if (over) fail(RAST_E_INVALID_ARGUMENT, "The process world is closed");
}

bool world_is_over() { return over; }
void world_set_over() { over = true; }

void world_guard(const std::function<void()> &fn) {
  world_check_live();
  try {
    fn();
  } catch (const std::exception &e) {
    std::string named = world_failed_rank();
    lost_reason = !named.empty()
                      ? named
                      : "Lost the process world (WORLD_SIZE=" + std::to_string(info.world) +
                            " at " + info.address + "): " + first_line(e) +
                            "; see the other ranks' output, then restart every rank";
    over = true;
    fail(RAST_E_BACKEND, lost_reason);
  }
}

}  // namespace rast
