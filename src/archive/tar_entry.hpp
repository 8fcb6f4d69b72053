// TarEntry: one archive member (what tar readers yield and the tar writer takes),
// ContentReader: a pull stream of its content, and path normalisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace distill::archive {

enum class EntryType { File, Directory, Symlink, Hardlink, CharDevice, BlockDevice, Fifo };

const char* to_string(EntryType type);

struct TarEntry {
  // Normalised: relative, no leading "./" or "/", no trailing "/", no "." or ".."
  // components, never "".
  std::string path;
  EntryType type = EntryType::File;
  uint32_t mode = 0644;  // permission bits incl. setuid/setgid/sticky (07777)
  uint32_t uid = 0, gid = 0;
  std::string uname, gname;
  int64_t mtime = 0;
  uint64_t size = 0;  // File only
  // Symlink: the target as written. Hardlink: the target, normalised like path.
  std::string link_target;
  uint32_t dev_major = 0, dev_minor = 0;
};

class ContentReader {
 public:
  virtual ~ContentReader() = default;
  // Reads up to `size` bytes; 0 = end of content.
  virtual Result<size_t> read(void* buffer, size_t size) = 0;
  // The same bytes read() would give (up to `size`, empty at the end), seen
  // where the reader holds them already when it does (a block of the
  // archive's, a buffer in memory), else read into `buffer` (room for
  // `size`). The view is valid until the next call on the reader. What
  // streams content on saves a copy of it this way.
  virtual Result<std::string_view> read_view(char* buffer, size_t size);
  // Reads everything that is left.
  Result<std::string> read_all();
  // Appends the rest to `out`, making room for `size_hint` more bytes first
  // (the entry's size: no regrowing, copying and faulting in on the way).
  Status read_all_into(std::string& out, uint64_t size_hint);
};

// A ContentReader over bytes in memory (not owned).
class MemoryContentReader final : public ContentReader {
 public:
  explicit MemoryContentReader(std::string_view data) : m_data(data) {}
  Result<size_t> read(void* buffer, size_t size) override;
  Result<std::string_view> read_view(char* buffer, size_t size) override;

 private:
  std::string_view m_data;
};

// Normalises an archive path as described for TarEntry::path. Rejects ".."
// components ("<origin>: path escapes the root: <raw>", Corrupt), empty paths and
// paths that normalise to the root ("<origin>: empty path", Corrupt) and NUL bytes.
Result<std::string> normalize_path(std::string_view raw, const std::string& origin);

}  // namespace distill::archive
