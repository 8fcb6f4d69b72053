#include "archive/file_content_reader.hpp"

#include <unistd.h>

#include <cerrno>

#include "util/file_io.hpp"

namespace distill::archive {

Result<size_t> FileContentReader::read(void* buffer, size_t size) {
  for (;;) {
    ssize_t n = ::read(m_fd.get(), buffer, size);
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      return util::errno_error(m_path, errno);
    }
  }
}

}  // namespace distill::archive
