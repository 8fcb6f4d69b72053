#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "util/file_io.hpp"
#include "util/interrupt_cleanup.hpp"

namespace distill::util {

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& destination, unsigned mode) {
  std::filesystem::path parent = destination.parent_path();
  if (parent.empty()) {
    parent = ".";
  }
  for (int attempt = 0;; ++attempt) {
    std::string pattern =
        (parent / ("." + destination.filename().string() + ".tmp.XXXXXX")).string();
    int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) {
      return errno_error(destination, errno);
    }
    Fd owned(fd);
    // Held until the file is published or removed: a sweep removes only the
    // temporaries nobody holds (their owner died).
    CleanupRegistration cleanup(pattern, CleanupKind::File);
    if (!lock_as_owner(fd, pattern)) {
      // A sweep took the file between mkostemp and flock: start again.
      if (try_again_after_sweep(attempt)) {
        continue;
      }
      return make_error(ErrorKind::Io, pattern + ": removed while it was being created");
    }
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
      int err = errno;
      ::unlink(pattern.c_str());
      return errno_error(destination, err);
    }
    return AtomicFile(destination, pattern, std::move(owned), std::move(cleanup));
  }
}

AtomicFile::~AtomicFile() {
  if (m_fd.valid()) {
    ::unlink(m_temp.c_str());  // before the lock goes with the fd
    m_fd.reset();
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

Status AtomicFile::link_as(const std::filesystem::path& destination) {
  if (::link(m_temp.c_str(), destination.c_str()) == 0) {
    return {};
  }
  if (errno != EEXIST) {
    return errno_error(destination, errno);
  }
  // The temporary's name and a number: no one else's, and a sweep leaves it
  // while this object holds the inode's lock.
  const std::string temp = m_temp.string() + "." + std::to_string(++m_links);
  CleanupRegistration cleanup(temp, CleanupKind::File);
  if (::link(m_temp.c_str(), temp.c_str()) != 0) {
    return errno_error(destination, errno);
  }
  if (::rename(temp.c_str(), destination.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return errno_error(destination, err);
  }
  return {};
}

Status AtomicFile::commit() {
  // No fsync: the rename guards against a crashed or interrupted process, which
  // is what a build must survive; fsync per blob would dominate warm builds.
  // Renamed while still open (and locked), so no sweep can take it between.
  if (::rename(m_temp.c_str(), m_destination.c_str()) != 0) {
    int err = errno;
    ::unlink(m_temp.c_str());
    m_fd.reset();
    m_cleanup.release();
    return errno_error(m_destination, err);
  }
  m_cleanup.release();
  if (::close(m_fd.release()) != 0) {
    return errno_error(m_destination, errno);
  }
  return {};
}

}  // namespace distill::util
