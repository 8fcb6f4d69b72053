// What an image says about its Debian packages and its distribution: the dpkg
// status entries (distroless's /var/lib/dpkg/status.d/<pkg> paragraphs, or a classic
// /var/lib/dpkg/status) and os-release. Licenses are in debian_licenses.hpp.
#pragma once

#include <map>
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
  // Relationship fields as written ("" when absent): what the package needs
  // (Pre-Depends, Depends) and the virtual packages it provides.
  std::string pre_depends;
  std::string depends;
  std::string provides;
  std::string status_file;  // where the paragraph was read
};

// Every package paragraph in /var/lib/dpkg/status.d/* (not *.md5sums) and
// /var/lib/dpkg/status, sorted by name then arch. A paragraph that does not parse
// is an error naming the file.
Result<std::vector<PackageRecord>> installed_packages(const ImageView& view);

// The files installed_packages reads: the regular files (symlinks followed) in
// /var/lib/dpkg/status.d but *.md5sums, then /var/lib/dpkg/status when present.
std::vector<std::string> status_files(const ImageView& view);

// The installed packages of some status files (path -> content), sorted as
// installed_packages sorts them.
Result<std::vector<PackageRecord>> parse_status_files(
    const std::map<std::string, std::string>& contents);

struct OsRelease {
  std::string id;                // "debian"
  std::string version_id;        // "12"
  std::string version_codename;  // "bookworm"
  std::string pretty_name;
};

// /etc/os-release, else /usr/lib/os-release; empty fields if neither exists.
OsRelease read_os_release(const ImageView& view);
OsRelease parse_os_release(std::string_view text);

}  // namespace distill::check
