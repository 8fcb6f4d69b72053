#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "util/file_io.hpp"

namespace distill::util {

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& destination, unsigned mode) {
  std::filesystem::path parent = destination.parent_path();
  if (parent.empty()) {
    parent = ".";
  }
  std::string pattern = (parent / ("." + destination.filename().string() + ".tmp.XXXXXX")).string();
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    return errno_error(destination, errno);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(pattern.c_str());
    return errno_error(destination, err);
  }
  return AtomicFile(destination, pattern, Fd(fd));
}

AtomicFile::~AtomicFile() {
  if (m_fd.valid()) {
    m_fd.reset();
    ::unlink(m_temp.c_str());
  }
}

Status AtomicFile::write(std::string_view data) { return write(data.data(), data.size()); }

Status AtomicFile::write(const void* data, size_t size) {
  return write_all(m_fd.get(), data, size, m_temp);
}

Status AtomicFile::commit_as(const std::filesystem::path& destination) {
  m_destination = destination;
  return commit();
}

Status AtomicFile::commit() {
  // No fsync: the rename guards against a crashed or interrupted process, which
  // is what a build must survive; fsync per blob would dominate warm builds.
  if (::close(m_fd.release()) != 0) {
    int err = errno;
    ::unlink(m_temp.c_str());
    return errno_error(m_temp, err);
  }
  if (::rename(m_temp.c_str(), m_destination.c_str()) != 0) {
    int err = errno;
    ::unlink(m_temp.c_str());
    return errno_error(m_destination, err);
  }
  return {};
}

}  // namespace distill::util
