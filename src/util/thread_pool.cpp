#include "util/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace distill::util {

unsigned default_jobs() { return std::max(1U, std::thread::hardware_concurrency()); }

void parallel_for(size_t count, unsigned jobs, const std::function<void(size_t)>& task) {
  if (count == 0) {
    return;
  }
  size_t workers = std::min<size_t>(std::max(1U, jobs), count);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++) {
      task(i);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t i = 1; i < workers; ++i) {
    threads.emplace_back(worker);
  }
  worker();
  for (auto& thread : threads) {
    thread.join();
  }
}

}  // namespace distill::util
