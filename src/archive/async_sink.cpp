// See async_sink.hpp.
#include "archive/async_sink.hpp"

#include <utility>

#include "util/thread_pool.hpp"

namespace distill::archive {

AsyncSink::AsyncSink(ByteSink& downstream, size_t chunk_size, size_t depth)
    : m_down(downstream),
      m_chunk_size(chunk_size == 0 ? 1 : chunk_size),
      m_depth(depth == 0 ? 1 : depth),
      m_thread(util::named_thread("distill-sink", [this] { consume(); })) {}

AsyncSink::~AsyncSink() { stop(); }

void AsyncSink::stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_closed = true;
    if (!m_finished) {
      m_queue.clear();  // abandoned: nobody will finish downstream
    }
  }
  m_changed.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

void AsyncSink::consume() {
  for (;;) {
    std::string chunk;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_changed.wait(lock, [&] { return !m_queue.empty() || m_closed; });
      if (m_queue.empty()) {
        return;  // closed and drained
      }
      chunk = std::move(m_queue.front());
      m_queue.pop_front();
    }
    m_changed.notify_all();  // room for the producer
    Status written = m_down.write(chunk.data(), chunk.size());
    if (!written.ok()) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_error = written.error();
      m_queue.clear();
      m_closed = true;
      m_changed.notify_all();
      return;
    }
  }
}

Status AsyncSink::push(std::string chunk) {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_changed.wait(lock, [&] { return m_queue.size() < m_depth || m_error.has_value(); });
  if (m_error) {
    return *m_error;
  }
  m_queue.push_back(std::move(chunk));
  lock.unlock();
  m_changed.notify_all();
  return {};
}

Status AsyncSink::write(const void* data, size_t size) {
  if (m_finished) {
    return make_error(ErrorKind::Internal, "async sink: write after finish()");
  }
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    if (m_pending.capacity() < m_chunk_size) {
      m_pending.reserve(m_chunk_size);
    }
    size_t take = std::min(size, m_chunk_size - m_pending.size());
    m_pending.append(bytes, take);
    bytes += take;
    size -= take;
    if (m_pending.size() == m_chunk_size) {
      DISTILL_CHECK(push(std::exchange(m_pending, std::string())));
    }
  }
  return {};
}

Status AsyncSink::finish() {
  if (m_finished) {
    return m_result;
  }
  Status queued;
  if (!m_pending.empty()) {
    queued = push(std::exchange(m_pending, std::string()));
  }
  m_finished = true;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_closed = true;
  }
  m_changed.notify_all();
  m_thread.join();
  if (m_error) {
    m_result = *m_error;
  } else if (!queued.ok()) {
    m_result = queued;
  } else {
    m_result = m_down.finish();
  }
  return m_result;
}

}  // namespace distill::archive
