#include "util/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/atomic_file.hpp"
#include "util/fd.hpp"
#include "util/interrupt.hpp"
#include "util/interrupt_cleanup.hpp"

namespace distill::util {

Error errno_error(const std::filesystem::path& path, int err) {
  return make_error(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                    path.string() + ": " + std::strerror(err));
}

// A regular file is read straight into a string of its size (one allocation,
// no copies as it grows); what it holds beyond that size (a file still being
// written) and what a pipe or a /proc file holds is appended as it comes.
Result<std::string> read_file(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(path, errno);
  }
  return read_fd(fd.get(), path);
}

Result<std::string> read_fd(int fd, const std::filesystem::path& path) {
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    data.resize(static_cast<size_t>(st.st_size));
  }
  size_t filled = 0;
  char buffer[65536];
  for (;;) {
    const bool sized = filled < data.size();  // else past the size fstat gave
    ssize_t n = sized ? ::read(fd, data.data() + filled, data.size() - filled)
                      : ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(path, errno);
    }
    if (n == 0) {
      break;
    }
    if (!sized) {
      data.append(buffer, static_cast<size_t>(n));
    }
    filled += static_cast<size_t>(n);
  }
  data.resize(filled);  // a file that shrank since fstat
  return data;
}

Status write_all(int fd, const void* data, size_t size, const std::filesystem::path& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(path, errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Status copy_rest(int in, int out, const std::filesystem::path& source,
                 const std::filesystem::path& destination) {
  for (;;) {
    DISTILL_CHECK(check_interrupted());
    // 64 MiB at a time: a stop request waits for no more than that.
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size_t{1} << 26, 0);
    if (n == 0) {
      return {};
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
        return errno_error(errno == ENOSPC || errno == EDQUOT ? destination : source, errno);
      }
      break;  // not between these files: copy through user space
    }
  }
  std::vector<char> buffer(size_t{1} << 16);
  for (;;) {
    DISTILL_CHECK(check_interrupted());
    ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(source, errno);
    }
    if (n == 0) {
      return {};
    }
    DISTILL_CHECK(write_all(out, buffer.data(), static_cast<size_t>(n), destination));
  }
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  // A device, FIFO or socket (-o /dev/null, /dev/stdout, a named pipe) is
  // written to, not replaced: renaming over /dev/null as root would leave a
  // regular file in its place for every other program.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) {
      return errno_error(path, errno);
    }
    return write_all(fd.get(), data.data(), data.size(), path);
  }
  DISTILL_TRY(auto file, AtomicFile::create(path, mode));
  DISTILL_CHECK(file.write(data));
  return file.commit();
}

Status write_new_file(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode)));
  if (!fd.valid()) {
    return errno_error(path, errno);
  }
  Status written = ::fchmod(fd.get(), static_cast<mode_t>(mode)) == 0  // whatever the umask
                       ? write_all(fd.get(), data.data(), data.size(), path)
                       : errno_error(path, errno);
  if (written.ok() && ::close(fd.release()) != 0) {
    written = errno_error(path, errno);
  }
  if (!written.ok()) {
    ::unlink(path.c_str());
  }
  return written;
}

namespace {

// What remove_tree_signal_safe() left of a tree on filesystem `device`,
// walked again by name to any depth, still never into a mount point.
Status remove_rest(const std::filesystem::path& path, dev_t device) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status{} : errno_error(path, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != device) {
      return make_error(ErrorKind::Io, path.string() + ": a mount point, left in place");
    }
    ::chmod(path.c_str(), 0700);  // a read-only directory of an unpacked image
    std::error_code ec;
    for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec)) {
      DISTILL_CHECK(remove_rest(it->path(), device));
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return make_error(ErrorKind::Io, path.string() + ": " + ec.message());
    }
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
      return errno_error(path, errno);
    }
    return {};
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return errno_error(path, errno);
  }
  return {};
}

}  // namespace

Status remove_tree(const std::filesystem::path& path) {
  struct stat top {};
  if (::lstat(path.c_str(), &top) != 0) {
    return errno == ENOENT ? Status{} : errno_error(path, errno);
  }
  if (remove_tree_signal_safe(path.c_str())) {
    return {};
  }
  return remove_rest(path, top.st_dev);
}

}  // namespace distill::util
