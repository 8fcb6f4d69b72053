// A path resolved inside a root as the kernel resolves it under chroot(2),
// one component at a time, where the caller says what is a symbolic link:
// the files of an unpacked root file system (elf/library_closure) or the
// listing of an image's layers (image/lower_tree).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distill::util {

// `link_at(prefix)`: the target of the symbolic link at `prefix` (the
// components so far joined with '/', no leading '/'), or nullopt where there
// is none. An absolute target starts again from the root, ".." stops at the
// root, "." and empty components are skipped. `follow_last`: a link in the
// last component is followed too. More than 40 links (the kernel's
// MAXSYMLINKS, its ELOOP) give nullopt.
std::optional<std::vector<std::string>> resolve_in_root(
    std::string_view path,
    const std::function<std::optional<std::string>(const std::string&)>& link_at,
    bool follow_last = true);

// The same for a root that is a directory on this machine (an unpacked root
// file system), its links read from the disk; the last component is followed.
// Nothing outside `root` is read.
std::optional<std::vector<std::string>> resolve_in_directory(const std::filesystem::path& root,
                                                             std::string_view path);

}  // namespace distill::util
