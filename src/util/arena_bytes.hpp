// A byte buffer in the page arena (util/page_arena.hpp), for the big buffers a
// build fills whole: gzip chunks and members, a file's write buffer.
//
// Appends are one memcpy. A std::vector given the arena's allocator copied
// them a byte at a time: libstdc++ constructs each element through a custom
// allocator's traits, ~5 instructions a byte, 3% of a warm build's
// instructions (callgrind) for copying the layers into their gzip chunks.
// Growing does not zero-fill either: what is not written is never read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <utility>

#include "util/page_arena.hpp"

namespace distill::util {

class ArenaBytes {
 public:
  ArenaBytes() = default;
  ArenaBytes(const ArenaBytes&) = delete;
  ArenaBytes& operator=(const ArenaBytes&) = delete;
  // A moved-from buffer is empty and has no room.
  ArenaBytes(ArenaBytes&& other) noexcept
      : m_bytes(std::move(other.m_bytes)),
        m_capacity(std::exchange(other.m_capacity, 0)),
        m_size(std::exchange(other.m_size, 0)) {}
  ArenaBytes& operator=(ArenaBytes&& other) noexcept {
    m_bytes = std::move(other.m_bytes);
    m_capacity = std::exchange(other.m_capacity, 0);
    m_size = std::exchange(other.m_size, 0);
    return *this;
  }
  ~ArenaBytes() = default;

  // Room for `capacity` bytes, keeping what is there.
  void reserve(size_t capacity) {
    if (capacity > m_capacity) {
      ArenaArray<unsigned char> bigger = make_arena_array<unsigned char>(capacity);
      if (m_size > 0) {
        std::memcpy(bigger.get(), m_bytes.get(), m_size);
      }
      m_bytes = std::move(bigger);
      m_capacity = capacity;
    }
  }

  // Room for `capacity` bytes to write whole from data(), dropping what is
  // there (nothing is copied); set_size() says how much was written.
  unsigned char* prepare(size_t capacity) {
    m_size = 0;
    reserve(capacity);
    return m_bytes.get();
  }

  void append(const void* data, size_t size) {
    if (size == 0) {
      return;
    }
    if (m_size + size > m_capacity) {
      reserve(std::max(m_size + size, 2 * m_capacity));
    }
    std::memcpy(m_bytes.get() + m_size, data, size);
    m_size += size;
  }

  // After prepare(): `size` bytes, at most its capacity, were written.
  void set_size(size_t size) { m_size = std::min(size, m_capacity); }
  void clear() { m_size = 0; }

  [[nodiscard]] const unsigned char* data() const { return m_bytes.get(); }
  [[nodiscard]] size_t size() const { return m_size; }
  [[nodiscard]] size_t capacity() const { return m_capacity; }
  [[nodiscard]] bool empty() const { return m_size == 0; }
  [[nodiscard]] std::span<const unsigned char> bytes() const { return {m_bytes.get(), m_size}; }

 private:
  ArenaArray<unsigned char> m_bytes;
  size_t m_capacity = 0;
  size_t m_size = 0;
};

}  // namespace distill::util
