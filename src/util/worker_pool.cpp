#include "util/worker_pool.hpp"

#include <sched.h>

#include <chrono>

#include "util/thread_pool.hpp"

namespace distill::util {

namespace {

// Whether this thread is running a task through run_task().
thread_local bool t_running_borrowed = false;

// Whether this process may run on more than one CPU.
bool spare_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return ::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 1;
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// `task` as a batch of one: the single-task submit forms share the batch path.
std::vector<std::function<void()>> batch_of(std::function<void()> task) {
  std::vector<std::function<void()>> one;
  one.push_back(std::move(task));
  return one;
}

}  // namespace

WorkerPool::WorkerPool(unsigned threads, std::chrono::milliseconds first_wait)
    : m_first_wait(first_wait), m_creator_cpu(::sched_getcpu()) {
  m_awake_wait_over.store(!spare_cpu());
  unsigned count = threads == 0 ? default_jobs() : threads;
  m_threads.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    m_threads.push_back(named_thread("distill-pool", [this] { work(); }));
  }
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_ready.notify_all();
  for (auto& thread : m_threads) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

void WorkerPool::submit(std::function<void()> task) { submit(batch_of(std::move(task))); }

void WorkerPool::submit(std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) {
    return;
  }
  const size_t count = tasks.size();
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (auto& task : tasks) {
      m_queue.push_back(std::move(task));
    }
  }
  note_work();
  if (count >= m_threads.size()) {
    m_ready.notify_all();
  } else {
    for (size_t i = 0; i < count; ++i) {
      m_ready.notify_one();
    }
  }
}

void WorkerPool::offer(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_jobs.push_back(std::move(job));
  }
  note_work();
  m_ready.notify_one();
}

std::function<void()> WorkerPool::take(std::deque<std::function<void()>>& from) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (from.empty()) {
    return {};
  }
  std::function<void()> oldest = std::move(from.front());
  from.pop_front();
  return oldest;
}

bool WorkerPool::run_oldest(std::deque<std::function<void()>>& from) {
  std::function<void()> oldest = take(from);
  if (!oldest) {
    return false;
  }
  oldest();
  return true;
}

bool WorkerPool::help() { return run_oldest(m_jobs); }

bool WorkerPool::has_jobs() {
  std::lock_guard<std::mutex> lock(m_mutex);
  return !m_jobs.empty();
}

void WorkerPool::when_idle(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_idle.push_back(std::move(job));
  }
  // Not to a sleeping thread while one waits awake: woken, it would sweep on
  // the CPU the plan is made on (a warm base build's start, traced: the
  // pool's second thread took the sweep there, the first spun idle).
  if (m_awake_wait_over.load()) {
    m_ready.notify_one();
  }
}

bool WorkerPool::run_task() {
  if (t_running_borrowed) {
    return false;
  }
  std::function<void()> task = take(m_queue);
  if (!task) {
    return false;
  }
  t_running_borrowed = true;
  task();
  t_running_borrowed = false;
  return true;
}

bool WorkerPool::has_tasks() {
  if (t_running_borrowed) {
    return false;
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  return !m_queue.empty();
}

// On the virtual machines builds run on, a CPU with nothing to run halts at
// once (no halt polling), and the pool thread woken there for a build's
// second layer started it 3-9 ms after the first in 3 of 7 traced warm base
// builds. So while the caller makes its plan, one thread of a new pool waits
// awake for the first task or job, for at most m_first_wait (10 ms), and only where
// the caller has another CPU; then it sleeps like the others. Interleaved
// warm base builds against the floor: 1.109x against 1.122x (medians of 30
// rounds; 22 of them faster).
void WorkerPool::await_first_work() {
  if (m_awake_wait_over.load() || m_one_awake.exchange(true)) {
    return;
  }
  // A new thread may start on its creator's CPU, and a waiting thread that
  // stayed there took turns with it: the plan was made 1.8-4.3 ms later in
  // half of the warm base builds traced (0.1 ms when the wait moves away).
  move_off_cpu(m_creator_cpu);
  const auto until = std::chrono::steady_clock::now() + m_first_wait;
  while (!m_work_came.load(std::memory_order_relaxed) && !m_stopping.load()) {
    if (run_oldest(m_idle)) {
      continue;
    }
    for (int i = 0; i < 64; ++i) {
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() > until) {
      break;
    }
  }
  m_awake_wait_over.store(true);  // before this thread's first look at m_idle in work()
}

// Written once: later calls only read the flag (no cache line bounced
// between the threads that offer chunks).
void WorkerPool::note_work() {
  if (!m_work_came.load(std::memory_order_relaxed)) {
    m_work_came.store(true, std::memory_order_relaxed);
  }
}

void WorkerPool::work() {
  await_first_work();
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      // Jobs for idle time are the awake waiter's while it waits.
      auto idle = [this] { return !m_idle.empty() && m_awake_wait_over.load(); };
      m_ready.wait(lock,
                   [&] { return m_stopping || !m_jobs.empty() || !m_queue.empty() || idle(); });
      auto& from = !m_jobs.empty() ? m_jobs : !m_queue.empty() ? m_queue : m_idle;
      if (&from == &m_idle && (m_stopping || !idle())) {
        return;  // stopping, and nothing left to run but what may be dropped
      }
      task = std::move(from.front());
      from.pop_front();
    }
    task();
  }
}

void TaskGroup::submit(std::function<void()> task) { submit(batch_of(std::move(task))); }

void TaskGroup::submit(std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending += tasks.size();
  }
  for (auto& task : tasks) {  // each counted down once it has run
    task = [this, run = std::move(task)] {
      run();
      std::lock_guard<std::mutex> lock(m_mutex);
      if (--m_pending == 0) {
        m_done.notify_all();
      }
    };
  }
  m_pool.submit(std::move(tasks));
}

void TaskGroup::wait() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_done.wait(lock, [this] { return m_pending == 0; });
}

}  // namespace distill::util
