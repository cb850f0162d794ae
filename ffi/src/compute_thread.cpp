// The compute thread (compute_thread.h): a job queue served by one thread started on first use.
#include "compute_thread.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace rast {
namespace {

class ComputeThread {
 public:
  ComputeThread() : thread_([this] { serve(); }) {
    // Never joined: the process may end while a job runs (a UI quitting mid-step), and the
    // thread must not hold up exit.
    thread_.detach();
  }

  void run(const std::function<void()> &fn) {
    if (std::this_thread::get_id() == id_) return fn();  // a job calling back into the ABI
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back([&] {
        fn();
        std::lock_guard<std::mutex> l(done_mutex);
        done = true;
        done_cv.notify_one();
      });
    }
    wake_.notify_one();
    std::unique_lock<std::mutex> l(done_mutex);
    done_cv.wait(l, [&] { return done; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::thread::id id_;
  std::thread thread_;

  void serve() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      id_ = std::this_thread::get_id();
    }
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
};

ComputeThread &compute_thread() {
  static ComputeThread *thread = new ComputeThread();  // lives as long as the process
  return *thread;
}

}  // namespace

void on_compute_thread(const std::function<void()> &fn) { compute_thread().run(fn); }

}  // namespace rast
