// TempDir: a fresh directory removed (recursively) on destruction.
#pragma once

#include <filesystem>

#include "util/result.hpp"

namespace distill::util {

class TempDir {
 public:
  // Creates `<parent>/<prefix>XXXXXX`; parent defaults to $TMPDIR or /tmp.
  static Result<TempDir> create(const std::string& prefix = "distill-",
                                const std::filesystem::path& parent = {});
  TempDir(TempDir&& other) noexcept : m_path(std::move(other.m_path)) { other.m_path.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  // Stops owning the directory: it is kept.
  std::filesystem::path release();

 private:
  explicit TempDir(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
};

}  // namespace distill::util
