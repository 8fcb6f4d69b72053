// FileStamp: what stat(2) says about a file that any write to it changes, its
// size and modification time (ns). A cache records the stamp of an entry it
// has verified; a later read whose stamp still matches may trust the entry
// without hashing it again, any other is hashed (and dropped when wrong).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace distill::util {

struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;

  // "<size>:<mtime_ns>", the form records store.
  [[nodiscard]] std::string str() const;
  static std::optional<FileStamp> parse(std::string_view text);
  bool operator==(const FileStamp&) const = default;
};

// The stamp of a regular file; nullopt when it is missing or not a regular file.
std::optional<FileStamp> stamp_of(const std::filesystem::path& path);
std::optional<FileStamp> stamp_of(int fd);

}  // namespace distill::util
