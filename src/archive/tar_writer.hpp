// TarWriter: a deterministic POSIX tar (ustar + pax) writer.
//
// Every header byte is chosen here (libarchive is not used for writing):
//  - ustar headers (magic "ustar\0", version "00"), octal numeric fields
//    zero-padded and NUL-terminated, checksum "%06o\0 ".
//  - Path written into name (100) or split across prefix (155) + name; else a pax
//    "x" header carries "path". Likewise "linkpath" (> 100), "size" (>= 8 GiB),
//    "uid"/"gid" (>= 8^7), "uname"/"gname" (> 31 bytes), "mtime" (< 0 or >= 8^11).
//  - pax header entries are named "PaxHeaders/<basename>" (truncated to 100
//    bytes), mode 0644, uid/gid/mtime 0, empty uname/gname; records are sorted
//    by keyword.
//  - Directories are written with a trailing "/"; devmajor/devminor are 0 unless
//    the entry is a device; no atime/ctime; uname/gname as the entry has them.
//  - finish() writes two zero blocks (no padding to a 10 KiB record).
// Same entries -> same bytes, always. The writer does not sort: the caller
// decides the order.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "archive/byte_sink.hpp"
#include "archive/tar_entry.hpp"
#include "util/page_arena.hpp"
#include "util/result.hpp"

namespace distill::archive {

class TarWriter {
 public:
  explicit TarWriter(ByteSink& out) : m_out(out) {}

  // For File entries reads exactly entry.size bytes from `content` (an error if
  // it ends early or `content` is null with size > 0); ignored for other types.
  Status add(const TarEntry& entry, ContentReader* content);
  // For File entries the content's length is used as the size (entry.size is
  // ignored); `content` is ignored for other types.
  Status add(const TarEntry& entry, std::string_view content);
  // Writes the end-of-archive marker and finishes the sink. Idempotent.
  Status finish();

  [[nodiscard]] uint64_t bytes_written() const { return m_written; }

 private:
  Status add_header(const TarEntry& entry, uint64_t size);
  Status emit(const void* data, size_t size);
  Status pad(uint64_t size);
  ByteSink& m_out;
  util::ArenaArray<char> m_buffer;  // content copy buffer, allocated on first use
  uint64_t m_written = 0;
  bool m_finished = false;
};

}  // namespace distill::archive
