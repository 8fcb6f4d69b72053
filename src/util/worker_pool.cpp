#include "util/worker_pool.hpp"

#include "util/thread_pool.hpp"

namespace distill::util {

WorkerPool::WorkerPool(unsigned threads) {
  unsigned count = threads == 0 ? default_jobs() : threads;
  m_threads.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    m_threads.push_back(named_thread("distill-pool", [this] { work(); }));
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_ready.notify_all();
  for (auto& thread : m_threads) {
    thread.join();
  }
}

void WorkerPool::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_queue.push_back(std::move(task));
  }
  m_ready.notify_one();
}

void WorkerPool::offer(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_jobs.push_back(std::move(job));
  }
  m_ready.notify_one();
}

bool WorkerPool::help() {
  std::function<void()> job;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_jobs.empty()) {
      return false;
    }
    job = std::move(m_jobs.front());
    m_jobs.pop_front();
  }
  job();
  return true;
}

bool WorkerPool::has_jobs() {
  std::lock_guard<std::mutex> lock(m_mutex);
  return !m_jobs.empty();
}

void WorkerPool::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_ready.wait(lock, [this] { return m_stopping || !m_jobs.empty() || !m_queue.empty(); });
      auto& from = !m_jobs.empty() ? m_jobs : m_queue;
      if (from.empty()) {
        return;  // stopping, and nothing left to run
      }
      task = std::move(from.front());
      from.pop_front();
    }
    task();
  }
}

void TaskGroup::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++m_pending;
  }
  m_pool.submit([this, task = std::move(task)] {
    task();
    std::lock_guard<std::mutex> lock(m_mutex);
    if (--m_pending == 0) {
      m_done.notify_all();
    }
  });
}

void TaskGroup::wait() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_done.wait(lock, [this] { return m_pending == 0; });
}

}  // namespace distill::util
