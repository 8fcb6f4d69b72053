// AsyncSink: a ByteSink whose downstream runs on its own thread.
//
// Bytes written are gathered into chunks and handed over through a short
// bounded queue, so a producer (a decompressor) and a consumer (a parser) run at
// the same time on two cores instead of taking turns on one. Order is kept. An
// error of the downstream sink is returned by the next write() or by finish();
// the producer is never blocked on a consumer that has stopped.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "archive/byte_sink.hpp"

namespace distill::archive {

class AsyncSink final : public ByteSink {
 public:
  // At most `depth` chunks of about `chunk_size` bytes wait in the queue.
  explicit AsyncSink(ByteSink& downstream, size_t chunk_size = size_t{1} << 20, size_t depth = 4);
  ~AsyncSink() override;  // abandons what is queued and joins; does not finish downstream
  AsyncSink(const AsyncSink&) = delete;
  AsyncSink& operator=(const AsyncSink&) = delete;

  Status write(const void* data, size_t size) override;
  using ByteSink::write;
  // Waits until everything written has reached downstream, then finishes it.
  Status finish() override;

 private:
  void consume();
  Status push(std::string chunk);
  void stop();

  ByteSink& m_down;
  const size_t m_chunk_size;
  const size_t m_depth;
  std::string m_pending;  // producer side, not yet queued

  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<std::string> m_queue;
  bool m_closed = false;  // no more chunks will come
  std::optional<Error> m_error;

  bool m_finished = false;
  Status m_result;
  std::thread m_thread;
};

}  // namespace distill::archive
