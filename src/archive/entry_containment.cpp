// See entry_containment.hpp.
#include "archive/entry_containment.hpp"

#include <deque>

#include "util/text.hpp"

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

std::string layer_path_problem(std::string_view path) {
  constexpr size_t k_name_max = 255;
  for (const auto& part : util::split_nonempty(path, '/')) {
    if (part.rfind(".wh.", 0) == 0) {
      return "'" + part +
             "' is a whiteout name (names starting with .wh. are reserved by the OCI image "
             "layer format: they delete files of the layers below)";
    }
    if (part.size() > k_name_max) {
      return "a name of " + std::to_string(part.size()) + " bytes ('" + part.substr(0, 40) +
             "...'), longer than the 255 a Linux file system takes";
    }
  }
  return {};
}

bool link_stays_inside(const std::map<std::string, std::string>& links, std::string_view link,
                       std::string_view target, std::string_view dst) {
  constexpr int k_max_links = 40;
  const std::vector<std::string> inside = util::split_nonempty(dst, '/');
  // Inside dst, or one of its parents (the root included).
  auto allowed = [&inside](const std::vector<std::string>& at) {
    size_t n = std::min(at.size(), inside.size());
    return std::equal(at.begin(), at.begin() + static_cast<std::ptrdiff_t>(n), inside.begin());
  };
  std::vector<std::string> at;
  if (target.empty() || target[0] != '/') {
    at = util::split_nonempty(link, '/');
    if (!at.empty()) {
      at.pop_back();  // relative to the link's directory
    }
  }
  auto target_parts = util::split_nonempty(target, '/');
  std::deque<std::string> pending(target_parts.begin(), target_parts.end());
  int followed = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") {
      continue;
    }
    if (part == "..") {
      if (at.empty()) {
        return false;
      }
      at.pop_back();
    } else {
      at.push_back(std::move(part));
      auto found = links.find(util::join(at, "/"));
      if (found != links.end()) {
        if (++followed > k_max_links) {
          return true;  // ELOOP: the link leads nowhere
        }
        at.pop_back();
        if (!found->second.empty() && found->second[0] == '/') {
          at.clear();
        }
        auto more = util::split_nonempty(found->second, '/');
        pending.insert(pending.begin(), more.begin(), more.end());
      }
    }
    if (!allowed(at)) {
      return false;
    }
  }
  return at.size() >= inside.size() && allowed(at);
}

}  // namespace distill::archive
