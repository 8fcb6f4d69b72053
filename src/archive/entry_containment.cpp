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

}  // namespace distill::archive
