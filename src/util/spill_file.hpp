// SpillFile: bytes too big to keep in memory, written to an unlinked temporary
// file and read back through a read-only mapping, so that only the pages a
// reader touches become resident (a 47 MB libnode.so whose ELF headers and
// dynamic section are all that is read costs a few pages, not 47 MB).
#pragma once

#include <cstddef>
#include <string_view>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace distill::util {

class SpillFile {
 public:
  // An unlinked file in $TMPDIR (default /tmp).
  static Result<SpillFile> create();
  SpillFile(SpillFile&& other) noexcept;
  SpillFile& operator=(SpillFile&&) = delete;
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  ~SpillFile();

  Status write(const void* data, size_t size);
  // Everything written so far, mapped read-only; valid while the SpillFile
  // lives and nothing more is written.
  Result<std::string_view> view();

 private:
  SpillFile(Fd fd, std::string where) : m_fd(std::move(fd)), m_where(std::move(where)) {}
  void unmap();

  Fd m_fd;
  std::string m_where;  // the directory, for messages
  size_t m_size = 0;
  void* m_map = nullptr;
  size_t m_mapped = 0;
};

}  // namespace distill::util
