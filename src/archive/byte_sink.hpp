// ByteSink: the one streaming output interface of the archive layer.
//
// Tar writers, compressors, hashers and files are chained as sinks, so a layer
// flows tar -> (HashingSink for diff_id) -> compressor -> HashingSink (digest)
// -> FileSink without ever being held in memory whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.hpp"
#include "util/arena_bytes.hpp"
#include "util/atomic_file.hpp"
#include "util/result.hpp"

namespace distill::archive {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status write(const void* data, size_t size) = 0;
  Status write(std::string_view s) { return write(s.data(), s.size()); }
  // Flushes everything buffered (and, for compressors, ends the stream) into the
  // downstream sink and finishes it. Idempotent; writing after finish() is an error.
  virtual Status finish() = 0;
};

// Counts and SHA-256-hashes every byte passing through, then forwards it to an
// optional downstream sink (finish() finishes the downstream too).
class HashingSink final : public ByteSink {
 public:
  explicit HashingSink(ByteSink* downstream = nullptr) : m_downstream(downstream) {}
  Status write(const void* data, size_t size) override;
  using ByteSink::write;
  Status finish() override;
  // Valid after finish().
  [[nodiscard]] const crypto::Digest& digest() const { return m_digest; }
  [[nodiscard]] uint64_t size() const { return m_size; }

 private:
  ByteSink* m_downstream;
  crypto::Sha256 m_sha;
  crypto::Digest m_digest;
  uint64_t m_size = 0;
  bool m_finished = false;
};

// Writes to a file descriptor (not owned) or an AtomicFile (not owned, not
// committed: the caller commits after finish()). Buffers small writes.
class FileSink final : public ByteSink {
 public:
  FileSink(int fd, std::filesystem::path name_for_errors);
  explicit FileSink(util::AtomicFile& file);
  Status write(const void* data, size_t size) override;
  using ByteSink::write;
  Status finish() override;  // flushes the buffer; does not close the fd
  [[nodiscard]] uint64_t size() const { return m_size; }

 private:
  Status flush();
  int m_fd;
  std::filesystem::path m_name;
  util::ArenaBytes m_buffer;
  uint64_t m_size = 0;
  bool m_finished = false;
};

// Appends to a caller-owned string.
class StringSink final : public ByteSink {
 public:
  explicit StringSink(std::string& out) : m_out(out) {}
  Status write(const void* data, size_t size) override;
  using ByteSink::write;
  Status finish() override { return {}; }

 private:
  std::string& m_out;
};

// Discards everything (use with HashingSink to only hash/count).
class NullSink final : public ByteSink {
 public:
  Status write(const void* /*data*/, size_t /*size*/) override { return {}; }
  using ByteSink::write;
  Status finish() override { return {}; }
};

}  // namespace distill::archive
