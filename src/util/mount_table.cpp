#include "util/mount_table.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <system_error>

#include "util/file_io.hpp"
#include "util/text.hpp"

namespace distill::util {

namespace {

bool is_octal(char c) { return c >= '0' && c <= '7'; }

// The `index`th space-separated field of `line` (from 0), or empty.
std::string_view field_of(std::string_view line, size_t index) {
  for (size_t i = 0;; ++i) {
    const size_t end = line.find(' ');
    if (i == index) {
      return line.substr(0, end);
    }
    if (end == std::string_view::npos) {
      return {};
    }
    line.remove_prefix(end + 1);
  }
}

}  // namespace

std::string unescape_mount_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) &&
        is_octal(field[i + 2]) && is_octal(field[i + 3])) {
      out += static_cast<char>(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) |
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::vector<std::filesystem::path> mount_points_below(const std::filesystem::path& dir,
                                                      std::string_view table) {
  std::error_code ec;
  std::filesystem::path resolved = std::filesystem::weakly_canonical(dir, ec);
  if (ec) {
    resolved = std::filesystem::absolute(dir, ec).lexically_normal();
  }
  std::string prefix = resolved.string();
  while (prefix.size() > 1 && prefix.back() == '/') {
    prefix.pop_back();
  }
  prefix += '/';
  std::vector<std::filesystem::path> found;
  for (const std::string& line : split_lines(table)) {
    // mountinfo: ID PARENT-ID MAJOR:MINOR ROOT MOUNT-POINT OPTIONS ...
    const std::string point = unescape_mount_field(field_of(line, 4));
    if (point.size() > prefix.size() && point.compare(0, prefix.size(), prefix) == 0) {
      found.emplace_back(point);
    }
  }
  // Deepest first; a point mounted twice is detached twice.
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.string().size() > b.string().size();
  });
  return found;
}

size_t detach_mounts_below(const std::filesystem::path& dir) {
  auto table = read_file("/proc/self/mountinfo");
  if (!table.ok()) {
    return 0;
  }
  size_t detached = 0;
  for (const auto& point : mount_points_below(dir, *table)) {
    if (::umount2(point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
      ++detached;
    }
  }
  return detached;
}

}  // namespace distill::util
