// Which installed Debian package owns each file of an image, read from the image
// alone: the file list dpkg leaves next to each status entry — distroless's
// /var/lib/dpkg/status.d/<pkg>.md5sums, or a classic dpkg database's
// /var/lib/dpkg/info/<pkg>[:<arch>].list (every path) or .md5sums — plus the
// status entry files themselves. md5sums name regular files only and leave
// conffiles out (dpkg's conffiles are listed in the control area instead), so a
// file no list names is attributed by its layer when that layer is one known
// to hold nothing but its packages' files (distill's package layers) and
// carries exactly one package's status entry. Another tool's layer may hold
// a whole root file system beside its one status entry: what no list names
// there is no package's.
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
