// TarEntry helpers: path normalisation and ContentReader basics.
#include "archive/tar_entry.hpp"

#include <cstring>

namespace distill::archive {

const char* to_string(EntryType type) {
  switch (type) {
    case EntryType::File:
      return "file";
    case EntryType::Directory:
      return "directory";
    case EntryType::Symlink:
      return "symlink";
    case EntryType::Hardlink:
      return "hardlink";
    case EntryType::CharDevice:
      return "character device";
    case EntryType::BlockDevice:
      return "block device";
    case EntryType::Fifo:
      return "fifo";
  }
  return "unknown";
}

Result<std::string> ContentReader::read_all() {
  std::string out;
  DISTILL_CHECK(read_all_into(out, 0));
  return out;
}

Result<std::string_view> ContentReader::read_view(char* buffer, size_t size) {
  DISTILL_TRY(size_t n, read(buffer, size));
  return std::string_view(buffer, n);
}

Status ContentReader::read_all_into(std::string& out, uint64_t size_hint) {
  out.reserve(out.size() + static_cast<size_t>(size_hint));
  char buffer[65536];
  for (;;) {
    DISTILL_TRY(std::string_view got, read_view(buffer, sizeof buffer));
    if (got.empty()) {
      return {};
    }
    out.append(got);
  }
}

Result<size_t> MemoryContentReader::read(void* buffer, size_t size) {
  size_t n = std::min(size, m_data.size());
  if (n > 0) {
    std::memcpy(buffer, m_data.data(), n);
    m_data.remove_prefix(n);
  }
  return n;
}

Result<std::string_view> MemoryContentReader::read_view(char* /*buffer*/, size_t size) {
  std::string_view view = m_data.substr(0, size);
  m_data.remove_prefix(view.size());
  return view;
}

Result<std::string> normalize_path(std::string_view raw, const std::string& origin) {
  if (raw.find('\0') != std::string_view::npos) {
    return make_error(ErrorKind::Corrupt, origin + ": NUL byte in path");
  }
  std::string out;
  out.reserve(raw.size());
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t slash = raw.find('/', pos);
    if (slash == std::string_view::npos) {
      slash = raw.size();
    }
    std::string_view part = raw.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return make_error(ErrorKind::Corrupt,
                        origin + ": path escapes the root: " + std::string(raw));
    }
    if (!out.empty()) {
      out += '/';
    }
    out += part;
  }
  if (out.empty()) {
    return make_error(ErrorKind::Corrupt, origin + ": empty path: \"" + std::string(raw) + "\"");
  }
  return out;
}

}  // namespace distill::archive
