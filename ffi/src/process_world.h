// Ranks that are processes: the world torchrun's environment describes, joined through a c10d
// TCPStore. Rank 0 sends each call on a split model to the others over a Gloo control group
// (world_calls.cpp says what the calls are); the model's collectives run on a second group
// (NCCL on CUDA, Gloo on CPU).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collectives.h"

namespace rast {

struct WorldInfo {
  int rank = 0, world = 1, local_rank = 0;
  std::string address;  // MASTER_ADDR:MASTER_PORT, for messages
};

// The world this process joined; a world of one before world_join or without WORLD_SIZE.
const WorldInfo &world_info();
inline bool world_is_split() { return world_info().world > 1; }

// Reads WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (and RAST_WORLD_TIMEOUT,
// TORCHELASTIC_USE_AGENT_STORE, GLOO_SOCKET_IFNAME), meets the other ranks at the TCPStore and
// connects the groups. Once per process.
void world_join();

// This rank's device for the one asked: every CUDA device becomes this rank's GPU.
at::Device world_device(const at::Device &asked);

// The model group's collectives, for the shard this rank holds of any split model, and the
// device they run on (this rank's GPU with NCCL, else the CPU).
RankCollectives world_collectives();
at::Device world_collective_device();

// One call from rank 0 to the others: what to run, on which model, and its arrays.
struct WorldCall {
  int64_t kind = 0, model = 0;
  int64_t args[5] = {0, 0, 0, 0, 0};
  std::vector<uint8_t> payload;
};

// Rank 0: sends a call to every other rank.
void world_send(const WorldCall &call);
// Ranks other than 0: the next call, waiting as long as rank 0 is there.
WorldCall world_receive();
// Every rank says whether its part of a call worked; true when all did. A rank that failed
// first records its message (world_report) so rank 0 can name it (world_failed_rank).
bool world_agree(bool ok);
void world_report(int32_t code, const std::string &message);
// Rank 0, after world_agree failed or a rank was lost: "Rank r of the process world failed:
// ..." for the first rank that reported (its report is then dropped), with its return code in
// *code; "" when none did.
std::string world_failed_rank(int32_t *code = nullptr);

// Rank 0: runs its part of a call on a split model. A failure inside (a rank lost, a timeout)
// leaves the ranks out of step, so the world is marked lost and this and every later call
// fails with one line naming the rank that failed, or the cause and the fix.
void world_guard(const std::function<void()> &fn);
// Rank 0: fails when the world was lost before.
void world_check_live();
// Rank 0: the world can take no more calls (lost, or closed).
bool world_is_over();
void world_set_over();

// The first line of what an exception says, for one-line messages.
std::string first_line(const std::exception &e);

}  // namespace rast
