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

void WorkerPool::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_ready.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty()) {
        return;  // stopping, and nothing left to run
      }
      task = std::move(m_queue.front());
      m_queue.pop_front();
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
