// EntryContainment: the rules every archive distill unpacks into an image must
// follow, whoever made it (a .deb's data.tar, an upstream tarball named in a
// spec's `archives:`). Paths with ".." never get this far (normalize_path
// refuses them as the tar reader reads); on top of that, character and block
// devices and FIFOs are refused, and a hard link must name an earlier entry of
// the same archive (so it cannot reach a file outside it).
#pragma once

#include <map>
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

// Why `path` (a path in the image, '/'-separated, with or without a leading
// '/') cannot be the name of a layer entry; "" when it can. Refused: a
// component starting with ".wh." (the OCI image layer format's whiteouts: an
// unpacker deletes what such a name names in the layers below, or makes a
// directory opaque), and a component longer than 255 bytes (NAME_MAX: no
// Linux file system can unpack it).
std::string layer_path_problem(std::string_view path);

// Where a symbolic link really leads, within one archive: `links` maps the
// archive's symlinks (paths in the image, without a leading '/') to their
// targets. Resolves `target`, the target of the symlink at `link`, component by
// component as the kernel does, following the symlinks of `links` it passes
// through (those met in the link's own target included), up to 40 of them
// (the kernel's limit, past which it gives ELOOP: nothing is reached). A path
// the archive does not hold is taken as what it says (a directory or a file
// of that name). True when every step stays inside `dst` ("/" or "/opt/x") or
// on dst's own parents ("/opt", which the archive's layer makes directories)
// and the link ends inside dst; false when it leaves dst on the way or at the
// end, or climbs above the root.
bool link_stays_inside(const std::map<std::string, std::string>& links, std::string_view link,
                       std::string_view target, std::string_view dst);

}  // namespace distill::archive
