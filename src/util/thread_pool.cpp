#include "util/thread_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <string_view>
#include <thread>
#include <vector>

namespace distill::util {

unsigned default_jobs() { return std::max(1U, std::thread::hardware_concurrency()); }

void name_this_thread(std::string_view name) {
  // The kernel keeps 15 bytes and a NUL; longer names are refused (ERANGE).
  char shown[16] = {};
  name.copy(shown, sizeof shown - 1);
  ::pthread_setname_np(::pthread_self(), shown);
}

bool move_off_cpu(int cpu) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (cpu < 0 || cpu >= CPU_SETSIZE || ::sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
      !CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2) {
    return false;
  }
  cpu_set_t elsewhere = allowed;
  CPU_CLR(cpu, &elsewhere);
  if (::sched_setaffinity(0, sizeof elsewhere, &elsewhere) != 0) {
    return false;
  }
  ::sched_setaffinity(0, sizeof allowed, &allowed);
  return true;
}

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
    threads.push_back(named_thread("distill-par", worker));
  }
  worker();
  for (auto& thread : threads) {
    thread.join();
  }
}

}  // namespace distill::util
