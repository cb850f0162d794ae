// One thread owns all libtorch work of the process. Callers (Deno's worker threads for
// nonblocking calls, the main thread for the others) hand it a job and wait: one OpenMP team
// instead of one per calling thread, and the single thread CUDA graphs and streams want.
#pragma once

#include <functional>

namespace rast {

// Runs fn on the compute thread and waits for it (inline when already there). fn must not throw.
void on_compute_thread(const std::function<void()> &fn);

}  // namespace rast
