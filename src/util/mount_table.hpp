// The mount table as this process sees it (/proc/self/mountinfo), for one
// question: which mount points lie inside a directory. A temporary directory
// left by a killed `distill test` may still hold its overlay mount; it is
// detached before the directory is removed, so that nothing stays mounted
// and nothing is removed through the mount.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace distill::util {

// The mount points strictly inside `dir` (its symbolic links resolved), in
// the mountinfo text `table`, deepest first.
std::vector<std::filesystem::path> mount_points_below(const std::filesystem::path& dir,
                                                      std::string_view table);

// Detaches (umount2 with MNT_DETACH) every mount point inside `dir`, deepest
// first, from this process's mount table. What it may not unmount (no
// CAP_SYS_ADMIN) stays mounted. Returns how many it detached.
size_t detach_mounts_below(const std::filesystem::path& dir);

// A mountinfo path field with its octal escapes (`\040` for a space, `\011`,
// `\012`, `\134`) decoded.
std::string unescape_mount_field(std::string_view field);

}  // namespace distill::util
