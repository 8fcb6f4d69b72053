// `distill outdated`: the packages of an image, lock file or spec against the
// current state of their apt sources. For each package with a newer version
// in any suite of the sources (the release itself, -updates, -security): both
// versions, the suite, and the Debian changelog entries between them (read
// from the candidate .deb) with their highest urgency and the CVEs they name.
//
// What is installed, and against which sources:
//  - an image (oci:, oci-archive:, docker-archive:, docker://): the dpkg
//    status (status.d/* or status) of one platform; the sources given with
//    --sources, else the host's apt sources for the image's release
//    (VERSION_CODENAME of its os-release), -updates and -security included
//    when the host lists them;
//  - a lock file (`distill lock`): its packages, every architecture, against
//    the sources it records;
//  - a spec or flavor, with --lock FILE: the packages the lock pins for it
//    (the spec's own resolution, checked against the lock as a locked build
//    does), against the spec's sources. A spec alone pins nothing: resolved
//    now it is up to date by definition, so it needs --lock.
//
// Sources go through the build's loading path: the Release files as the mirror
// has them now (ReleaseSnapshot: a copy under 5 minutes old stands for it,
// replays refused), verified with gpgv by load_repositories. Candidates are
// cached under the Release bytes and the package names, changelogs under the
// .deb's SHA256, so a warm `outdated` opens no index and no .deb.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "debian/candidate.hpp"
#include "image/env.hpp"
#include "oci/source.hpp"
#include "util/result.hpp"

namespace distill::check {

struct OutdatedRequest {
  std::string subject;                 // image reference, lock file, spec file or flavor
  std::filesystem::path lock_file;     // with a spec: the packages it pins
  std::filesystem::path sources_file;  // .sources (deb822) or .list: used instead
  std::string arch;                    // image: the platform; lock, spec: only this arch ("" = all)
  std::string release;  // spec or flavor: the release of its flavors, as build --release
  std::filesystem::path apt_root = "/";  // where the host's apt sources are read
  int64_t release_max_age = 300;         // 0: ask the mirror (--refresh)
  bool allow_release_rollback = false;
  bool allow_expired_release = false;
  oci::SourceOptions image_source;  // registry settings for an image reference
};

// One changelog entry between the installed and the candidate version.
struct ChangelogChange {
  std::string version;
  std::string distributions;  // as in the header, space-separated
  std::string urgency;
  std::string date;
  std::vector<std::string> cves;
};

struct OutdatedPackage {
  std::string name, arch;  // arch of the index it was looked up in
  std::string installed, candidate;
  std::string suite;  // that offers the candidate, e.g. "bookworm-security"
  debian::SuiteKind kind = debian::SuiteKind::Other;
  std::string urgency;                   // the highest of the changes' ("" if none)
  std::vector<std::string> cves;         // of every change, first seen first
  std::vector<ChangelogChange> changes;  // newest first
  std::string changelog_note;            // why there are no changes ("" when read)
};

struct OutdatedReport {
  std::string subject;
  std::string subject_kind;          // "image", "lock", "spec"
  std::string sources_from;          // where the sources came from, for people
  std::vector<std::string> sources;  // "URL SUITE... (COMPONENTS)" per source
  std::vector<std::string> archs;
  size_t checked = 0;                       // packages compared
  std::vector<OutdatedPackage> outdated;    // by name, then arch
  std::vector<std::string> not_in_sources;  // "name (arch)": nothing to compare with
};

Result<OutdatedReport> find_outdated(const OutdatedRequest& request, image::BuildEnv& env);

// The report as `outdated --json` prints it (docs/outdated.md).
nlohmann::json to_json(const OutdatedReport& report);

}  // namespace distill::check
