// What an image says about its Debian packages and its distribution: the dpkg
// status entries (distroless's /var/lib/dpkg/status.d/<pkg> paragraphs, or a classic
// /var/lib/dpkg/status), os-release, and the licenses declared by machine-readable
// copyright files (https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/)
// mapped to SPDX license identifiers (https://spdx.org/licenses/).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check/image_view.hpp"
#include "util/result.hpp"

namespace distill::check {

struct PackageRecord {
  std::string name;
  std::string version;
  std::string arch;
  std::string source;          // source package name ("" = same as name)
  std::string source_version;  // "" = same as version
  std::string maintainer;
  std::string status_file;  // where the paragraph was read
};

// Every package paragraph in /var/lib/dpkg/status.d/* (not *.md5sums) and
// /var/lib/dpkg/status, sorted by name then arch. A paragraph that does not parse
// is an error naming the file.
Result<std::vector<PackageRecord>> installed_packages(const ImageView& view);

struct OsRelease {
  std::string id;                // "debian"
  std::string version_id;        // "12"
  std::string version_codename;  // "bookworm"
  std::string pretty_name;
};

// /etc/os-release, else /usr/lib/os-release; empty fields if neither exists.
OsRelease read_os_release(const ImageView& view);
OsRelease parse_os_release(std::string_view text);

// The SPDX identifier for a Debian copyright-format short license name
// ("GPL-2+" -> "GPL-2.0-or-later", "Expat" -> "MIT"); "" if there is none.
std::string spdx_license_id(std::string_view debian_name);

// The SPDX license expression for one `License:` short name, which may combine
// names with "or"/"and"/"," and carry "with X exception"; "" if any part is unknown.
std::string spdx_expression(std::string_view debian_license);

// The SPDX expression for a whole copyright file: every `License:` of its `Files:`
// paragraphs (and of the header), de-duplicated and joined with AND; "" when the
// file is not machine-readable or any license has no SPDX identifier.
std::string copyright_expression(std::string_view copyright_text);

// Every license short name (first line of each `License:` field) a copyright file
// declares, in file order, de-duplicated; empty when not machine-readable.
std::vector<std::string> copyright_license_names(std::string_view copyright_text);

}  // namespace distill::check
