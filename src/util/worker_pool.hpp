// WorkerPool: a fixed set of threads, created once per process, that runs
// submitted tasks in submission order. The build executor schedules every
// layer of every image on it, so `-j` bounds the whole process, not each call.
//
// A task may also offer short jobs (a layer's chunks to compress): a thread
// of the pool runs a queued job before it takes a new task, and a task that
// would otherwise wait runs one itself (help()); a task whose own work is
// done but for jobs running elsewhere runs the next queued task meanwhile
// (run_task()). So the build's work, its tasks and their jobs alike, runs on
// the pool's threads, one per CPU, rather than on more threads than CPUs
// taking turns, and a CPU does not sit idle while a task waits.
//
// A new pool's threads sleep until work comes, but for one, which waits
// awake for the first task or job for at most 10 ms (a CPU that halts takes
// milliseconds to wake on the virtual machines builds run on), on another
// CPU than the thread that made the pool, which meanwhile makes the plan;
// a job for idle time queued meanwhile runs on that waiting thread.
//
// Cancellation is cooperative: a TaskGroup counts the tasks it submitted and
// wait() returns once all of them ran; code that wants to stop early checks
// its own flag (see util/interrupt.hpp) before doing work.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace distill::util {

class WorkerPool {
 public:
  // `threads` == 0 means one per CPU (default_jobs()). `first_wait`: how long
  // one thread waits awake for the first work (tests lengthen it).
  explicit WorkerPool(unsigned threads,
                      std::chrono::milliseconds first_wait = std::chrono::milliseconds(10));
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  [[nodiscard]] unsigned size() const { return static_cast<unsigned>(m_threads.size()); }
  // Queues `task`; it runs on one of the pool's threads. Tasks must not throw.
  void submit(std::function<void()> task);
  // Queues every task at once, then wakes as many threads: a caller
  // preempted by the first thread it wakes (on its own CPU, which the
  // scheduler favours) holds none of the others back.
  void submit(std::vector<std::function<void()>> tasks);
  // Queues `job`, to run before any task not yet started, on a thread of the
  // pool or in a help() call. Jobs must not throw, and must not wait for
  // other jobs or tasks.
  void offer(std::function<void()> job);
  // Runs the oldest offered job on the calling thread; false when none is
  // queued.
  bool help();
  // Whether an offered job is queued (it may be taken before help() runs).
  [[nodiscard]] bool has_jobs();
  // Queues `job` to run on a thread of the pool that has nothing else to
  // do: the one waiting awake for the first work (while it waits, no other
  // thread takes it: they would share a CPU with the pool's creator), else
  // the first to find no task or job queued. It is not work that wakes the
  // pool for tasks, and a pool destroyed first drops it: for what may be
  // done or not (a sweep).
  void when_idle(std::function<void()> job);
  // Runs the oldest queued task on the calling thread, a task of this pool
  // with nothing left to do but wait for the jobs it offered to finish on
  // other threads; false when none is queued, or when the calling thread is
  // already running a task this way (one at a time, so waits do not nest).
  bool run_task();
  // Whether a task is queued that run_task() could run.
  [[nodiscard]] bool has_tasks();
  // Returns once every thread has ended: queued tasks and jobs still run,
  // a job for idle time not begun is dropped, one running is finished. A
  // process stops its pool before its statics are destroyed, since what a
  // thread runs may use them. Once stopped, a pool runs nothing more.
  void stop();
  // Whether a task or job was ever submitted or offered.
  [[nodiscard]] bool work_came() const { return m_work_came.load(std::memory_order_relaxed); }

 private:
  void work();
  void await_first_work();
  // The oldest of `from` (a queue of this pool), taken under m_mutex; empty
  // when there is none.
  std::function<void()> take(std::deque<std::function<void()>>& from);
  // Runs the oldest of `from` on the calling thread; false when none.
  bool run_oldest(std::deque<std::function<void()>>& from);
  void note_work();
  std::vector<std::thread> m_threads;
  std::deque<std::function<void()>> m_queue;
  std::deque<std::function<void()>> m_jobs;  // offered
  std::deque<std::function<void()>> m_idle;  // when_idle()
  std::mutex m_mutex;
  std::condition_variable m_ready;
  std::atomic<bool> m_stopping{false};   // set under m_mutex
  std::atomic<bool> m_work_came{false};  // a task or job was ever queued
  std::atomic<bool> m_one_awake{false};  // a thread has waited awake for the first work
  // No thread waits awake for the first work, or no longer: set before the
  // threads start where there is no spare CPU, else when the wait ends.
  std::atomic<bool> m_awake_wait_over{false};
  std::chrono::milliseconds m_first_wait;
  int m_creator_cpu = -1;  // the CPU the pool was made on, or -1
};

// Tasks submitted through a group can be waited for together.
class TaskGroup {
 public:
  explicit TaskGroup(WorkerPool& pool) : m_pool(pool) {}
  ~TaskGroup() { wait(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void submit(std::function<void()> task);
  // The tasks queued at once (WorkerPool::submit of several).
  void submit(std::vector<std::function<void()>> tasks);
  // Returns when every task submitted so far (including ones submitted by
  // running tasks) has finished.
  void wait();

 private:
  WorkerPool& m_pool;
  std::mutex m_mutex;
  std::condition_variable m_done;
  size_t m_pending = 0;
};

}  // namespace distill::util
