#include "util/temp_dir.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "util/file_io.hpp"

namespace distill::util {

Result<TempDir> TempDir::create(const std::string& prefix, const std::filesystem::path& parent) {
  std::filesystem::path base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  for (int attempt = 0;; ++attempt) {
    std::string pattern = (base / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return errno_error(pattern, errno);
    }
    CleanupRegistration cleanup(pattern, CleanupKind::Directory);
    Fd lock(::open(pattern.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock.valid() && errno != ENOENT) {
      int err = errno;
      ::rmdir(pattern.c_str());
      return errno_error(pattern, err);
    }
    if (!lock.valid() || !lock_as_owner(lock.get(), pattern)) {
      // A sweep took the directory between mkdtemp and flock: make another.
      if (try_again_after_sweep(attempt)) {
        continue;
      }
      return make_error(ErrorKind::Io, pattern + ": removed while it was being created");
    }
    return TempDir(pattern, std::move(lock), std::move(cleanup));
  }
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!m_path.empty()) {
      (void)remove_tree(m_path);
    }
    m_path = std::move(other.m_path);
    other.m_path.clear();
    m_lock = std::move(other.m_lock);
    m_cleanup = std::move(other.m_cleanup);
  }
  return *this;
}

TempDir::~TempDir() {
  if (!m_path.empty()) {
    (void)remove_tree(m_path);
  }
}

std::filesystem::path TempDir::release() {
  std::filesystem::path p = std::move(m_path);
  m_path.clear();
  m_cleanup.release();
  m_lock.reset();
  return p;
}

}  // namespace distill::util
