// Which installed Debian package owns each file of an image, read from the image
// alone: the file list dpkg leaves next to each status entry — distroless's
// /var/lib/dpkg/status.d/<pkg>.md5sums, or a classic dpkg database's
// /var/lib/dpkg/info/<pkg>[:<arch>].list (every path) or .md5sums — plus the
// status entry files themselves, and the conffiles each status entry names
// (md5sums leave them out). A symbolic link no list names is attributed by its
// layer when that layer carries exactly one package's status entry and holds
// nothing but packages' files: distill's package layers, and another tool's
// layer whose regular files all belong to packages (a layer per package, as
// Bazel builds distroless). Another tool's layer may hold a whole root file
// system beside its one status entry: what no list names there is no
// package's.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "check/image_view.hpp"
#include "check/packages.hpp"
#include "util/result.hpp"

namespace distill::check {

// Absolute path -> index into `packages`, for every entry of `view` (except
// directories) that a package owns. `package_layers[i]` says whether layer i
// holds only its packages' files (a missing entry: it may hold others).
Result<std::map<std::string, size_t>> package_file_owners(
    const ImageView& view, const std::vector<PackageRecord>& packages,
    const std::vector<bool>& package_layers);

}  // namespace distill::check
