#include "util/file_stamp.hpp"

#include <sys/stat.h>

#include <charconv>

namespace distill::util {

namespace {

std::optional<FileStamp> from_stat(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  FileStamp stamp;
  stamp.size = static_cast<uint64_t>(st.st_size);
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return stamp;
}

}  // namespace

std::string FileStamp::str() const { return std::to_string(size) + ":" + std::to_string(mtime_ns); }

std::optional<FileStamp> FileStamp::parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  FileStamp stamp;
  std::string_view size = text.substr(0, colon);
  std::string_view mtime = text.substr(colon + 1);
  auto [size_end, size_ec] = std::from_chars(size.data(), size.data() + size.size(), stamp.size);
  auto [mtime_end, mtime_ec] =
      std::from_chars(mtime.data(), mtime.data() + mtime.size(), stamp.mtime_ns);
  if (size.empty() || mtime.empty() || size_ec != std::errc() || mtime_ec != std::errc() ||
      size_end != size.data() + size.size() || mtime_end != mtime.data() + mtime.size()) {
    return std::nullopt;
  }
  return stamp;
}

std::optional<FileStamp> stamp_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return from_stat(st);
}

std::optional<FileStamp> stamp_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return std::nullopt;
  }
  return from_stat(st);
}

}  // namespace distill::util
