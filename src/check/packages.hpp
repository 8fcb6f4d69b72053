// What an image says about its Debian packages and its distribution: the dpkg
// status entries (distroless's /var/lib/dpkg/status.d/<pkg> paragraphs, or a classic
// /var/lib/dpkg/status) and os-release. Licenses are in debian_licenses.hpp.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "check/image_view.hpp"
#include "debian/releases.hpp"
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
  // The conffiles its record names (Conffiles:), absolute: md5sums leave them out.
  std::vector<std::string> conffiles;
};

// Every package paragraph in /var/lib/dpkg/status.d/* (not *.md5sums) and
// /var/lib/dpkg/status, sorted by name then arch. A paragraph that does not parse
// is an error naming the file.
Result<std::vector<PackageRecord>> installed_packages(const ImageView& view);

// The files installed_packages reads: the regular files (symlinks followed) in
// /var/lib/dpkg/status.d but *.md5sums, then /var/lib/dpkg/status when present.
std::vector<std::string> status_files(const ImageView& view);

// Whether a layer's file, by its name there ("var/lib/dpkg/status.d/libc6"),
// is one installed_packages reads or, with `file_lists`, one of the file
// lists package_file_owners reads (status.d/*.md5sums, dpkg/info/*.list and
// *.md5sums): for an ImageView::KeepFn, so that they are kept as the view is
// folded rather than read from their layers again.
bool is_package_record(std::string_view tar_path, bool file_lists);

// The installed packages of some status files (path -> content), sorted as
// installed_packages sorts them.
Result<std::vector<PackageRecord>> parse_status_files(
    const std::map<std::string, std::string>& contents);

// An upstream archive a build unpacked (a spec's `archives:`), from its record
// /var/lib/distill/archives/<sha256>.json (image/archive_layer.hpp).
struct ArchiveRecord {
  std::string name;     // "" when the spec gave none
  std::string version;  // "" when the spec gave none
  std::string url;
  std::string sha256;  // hex
  std::string dst;
  std::string record_file;
};

// Whether a layer's file, by its name there, is an archive record
// installed_archives reads (var/lib/distill/archives/<sha256>.json).
bool is_archive_record(std::string_view tar_path);

// Every archive record of the image, sorted by url then sha256. A record that
// does not parse is an error naming the file.
Result<std::vector<ArchiveRecord>> installed_archives(const ImageView& view);

using debian::OsRelease;
using debian::parse_os_release;

// /etc/os-release, else /usr/lib/os-release; empty fields if neither exists.
OsRelease read_os_release(const ImageView& view);

}  // namespace distill::check
