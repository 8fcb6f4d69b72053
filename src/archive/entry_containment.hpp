// EntryContainment: the rules every archive distill unpacks into an image must
// follow, whoever made it (a .deb's data.tar, an upstream tarball named in a
// spec's `archives:`). Paths with ".." never get this far (normalize_path
// refuses them as the tar reader reads); on top of that, character and block
// devices and FIFOs are refused, and a hard link must name an earlier entry of
// the same archive (so it cannot reach a file outside it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "archive/tar_entry.hpp"
#include "util/result.hpp"

namespace distill::archive {

class EntryContainment {
 public:
  // `label` names the archive in errors ("libc6_2.36-9_amd64"); `kind` says what
  // it is in "... not allowed in <kind>" ("a package", "an archive").
  EntryContainment(std::string label, std::string kind)
      : m_label(std::move(label)), m_kind(std::move(kind)) {}

  // Checks `entry` (in archive order) and remembers its path; a Corrupt error
  // naming the archive and the entry when it breaks a rule.
  Status check(const TarEntry& entry);

 private:
  std::string m_label;
  std::string m_kind;
  std::unordered_set<std::string> m_seen;
};

// Lexically resolves `target`, the target of a symlink at `link` (a path in the
// image, with or without a leading '/'), to the components of the path it names
// from the root; nullopt when a ".." climbs above the root.
std::optional<std::vector<std::string>> resolve_link_target(std::string_view link,
                                                            std::string_view target);

}  // namespace distill::archive
