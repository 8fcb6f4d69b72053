// See entry_containment.hpp.
#include "archive/entry_containment.hpp"

namespace distill::archive {

Status EntryContainment::check(const TarEntry& entry) {
  switch (entry.type) {
    case EntryType::CharDevice:
    case EntryType::BlockDevice:
    case EntryType::Fifo:
      return make_error(
          ErrorKind::Corrupt,
          m_label + ": " + entry.path + ": " + to_string(entry.type) + " not allowed in " + m_kind);
    case EntryType::Hardlink:
      if (m_seen.find(entry.link_target) == m_seen.end()) {
        return make_error(ErrorKind::Corrupt, m_label + ": " + entry.path + ": hard link to " +
                                                  entry.link_target +
                                                  ", which is not an earlier entry");
      }
      break;
    default:
      break;
  }
  m_seen.insert(entry.path);
  return {};
}

std::optional<std::vector<std::string>> resolve_link_target(std::string_view link,
                                                            std::string_view target) {
  std::vector<std::string> parts;
  auto walk = [&parts](std::string_view path, bool last_too) {
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string_view::npos) {
        if (!last_too) {
          break;  // the link's own name: its target is relative to its directory
        }
        end = path.size();
      }
      std::string_view part = path.substr(start, end - start);
      start = end + 1;
      if (part.empty() || part == ".") {
        continue;
      }
      if (part == "..") {
        if (parts.empty()) {
          return false;
        }
        parts.pop_back();
      } else {
        parts.emplace_back(part);
      }
    }
    return true;
  };
  if ((target.empty() || target[0] != '/') && !walk(link, false)) {
    return std::nullopt;
  }
  if (!walk(target, true)) {
    return std::nullopt;
  }
  return parts;
}

}  // namespace distill::archive
