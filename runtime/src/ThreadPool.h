//===- ThreadPool.h - the worker threads of CPU launches --------*- C++ -*-===//

#ifndef ATTNRT_SRC_THREADPOOL_H
#define ATTNRT_SRC_THREADPOOL_H

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace attnrt::detail {

/// A fixed set of workers shared by all CPU launches of the process. A
/// launch splits its work into tasks; the calling thread works too, so a
/// launch never waits for a worker that is busy with another launch.
class ThreadPool {
public:
  /// The process-wide pool, with hardware_concurrency() - 1 workers.
  static ThreadPool &shared();
  ~ThreadPool();

  unsigned numWorkers() const { return static_cast<unsigned>(workers.size()); }

  /// Runs body(i) for i in [0, count) on at most `maxThreads` threads
  /// (including the caller) and returns when all are done.
  void parallelFor(int64_t count, unsigned maxThreads,
                   const std::function<void(int64_t)> &body);

private:
  explicit ThreadPool(unsigned numWorkers);
  void workerLoop();

  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> queue;
  bool stopping = false;
};

} // namespace attnrt::detail

#endif // ATTNRT_SRC_THREADPOOL_H
