// SpillFile; see spill_file.hpp.
#include "util/spill_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include "util/file_io.hpp"

namespace distill::util {

Result<SpillFile> SpillFile::create() {
  const char* env = std::getenv("TMPDIR");
  std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  Fd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    // Filesystems without O_TMPFILE: a named file, unlinked at once.
    std::string name = dir + "/distill-spill.XXXXXX";
    fd = Fd(::mkostemp(name.data(), O_CLOEXEC));
    if (!fd.valid()) {
      return errno_error(dir, errno).context("temporary file");
    }
    ::unlink(name.c_str());
  }
  return SpillFile(std::move(fd), dir);
}

SpillFile::SpillFile(SpillFile&& other) noexcept
    : m_fd(std::move(other.m_fd)),
      m_where(std::move(other.m_where)),
      m_size(std::exchange(other.m_size, 0)),
      m_map(std::exchange(other.m_map, nullptr)),
      m_mapped(std::exchange(other.m_mapped, 0)) {}

SpillFile::~SpillFile() { unmap(); }

void SpillFile::unmap() {
  if (m_map != nullptr) {
    ::munmap(m_map, m_mapped);
    m_map = nullptr;
    m_mapped = 0;
  }
}

Status SpillFile::write(const void* data, size_t size) {
  unmap();
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(m_fd.get(), p, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(m_where, errno).context("temporary file");
    }
    p += n;
    size -= static_cast<size_t>(n);
    m_size += static_cast<size_t>(n);
  }
  return {};
}

Result<std::string_view> SpillFile::view() {
  if (m_size == 0) {
    return std::string_view();
  }
  if (m_map == nullptr) {
    void* address = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, m_fd.get(), 0);
    if (address == MAP_FAILED) {
      return errno_error(m_where, errno).context("mapping a temporary file");
    }
    m_map = address;
    m_mapped = m_size;
  }
  return std::string_view(static_cast<const char*>(m_map), m_size);
}

}  // namespace distill::util
