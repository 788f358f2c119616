//===- ThreadPool.cpp - the worker threads of CPU launches ----------------===//

#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <memory>

namespace attnrt::detail {

ThreadPool &ThreadPool::shared() {
  static ThreadPool pool(std::max(1u, std::thread::hardware_concurrency()) - 1);
  return pool;
}

ThreadPool::ThreadPool(unsigned numWorkers) {
  for (unsigned i = 0; i < numWorkers; ++i) {
    workers.emplace_back([this] { workerLoop(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &worker : workers) {
    worker.join();
  }
}

void ThreadPool::workerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) {
        return;
      }
      task = std::move(queue.front());
      queue.pop_front();
    }
    task();
  }
}

void ThreadPool::parallelFor(int64_t count, unsigned maxThreads,
                             const std::function<void(int64_t)> &body) {
  // Indices are claimed one at a time from a shared counter, so threads that
  // get cheap items take more of them.
  struct Launch {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex mutex;
    std::condition_variable finished;
  };
  auto launch = std::make_shared<Launch>();
  auto drain = [launch, count, &body] {
    int64_t ran = 0;
    for (int64_t i; (i = launch->next.fetch_add(1)) < count; ++ran) {
      body(i);
    }
    if (ran && launch->done.fetch_add(ran) + ran == count) {
      std::lock_guard<std::mutex> lock(launch->mutex);
      launch->finished.notify_all();
    }
  };
  unsigned helpers = std::min<unsigned>(
      {numWorkers(), maxThreads ? maxThreads - 1 : numWorkers(),
       static_cast<unsigned>(std::max<int64_t>(count - 1, 0))});
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (unsigned i = 0; i < helpers; ++i) {
      queue.emplace_back(drain);
    }
  }
  wake.notify_all();
  drain();
  std::unique_lock<std::mutex> lock(launch->mutex);
  launch->finished.wait(lock, [&] { return launch->done.load() == count; });
}

} // namespace attnrt::detail
