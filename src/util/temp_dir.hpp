// TempDir: a fresh directory removed (recursively) on destruction, and by the
// interrupt handler on SIGINT/SIGTERM/SIGHUP (interrupt_cleanup.hpp). Its
// owner holds an flock on it while it lives, so sweep_abandoned() can tell one
// left by a killed process.
#pragma once

#include <filesystem>

#include "util/fd.hpp"
#include "util/interrupt_cleanup.hpp"
#include "util/result.hpp"

namespace distill::util {

class TempDir {
 public:
  // Creates `<parent>/<prefix>XXXXXX`; parent defaults to $TMPDIR or /tmp.
  static Result<TempDir> create(const std::string& prefix = "distill-",
                                const std::filesystem::path& parent = {});
  TempDir(TempDir&& other) noexcept
      : m_path(std::move(other.m_path)),
        m_lock(std::move(other.m_lock)),
        m_cleanup(std::move(other.m_cleanup)) {
    other.m_path.clear();
  }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  // Stops owning the directory: it is kept.
  std::filesystem::path release();

 private:
  TempDir(std::filesystem::path path, Fd lock, CleanupRegistration cleanup)
      : m_path(std::move(path)), m_lock(std::move(lock)), m_cleanup(std::move(cleanup)) {}
  std::filesystem::path m_path;
  Fd m_lock;
  CleanupRegistration m_cleanup;
};

}  // namespace distill::util
