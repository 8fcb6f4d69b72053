// The lock file (`distill lock`, `--lock`, `--frozen`): the exact packages a spec
// resolved to, per architecture, so a later build installs the same bytes.
//
// JSON, pretty-printed with sorted keys and packages sorted by name, so the same
// resolution always gives the same file. See docs/formats/debian-repository.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.hpp"
#include "debian/apt_sources.hpp"
#include "debian/package_index.hpp"
#include "util/result.hpp"

namespace distill::debian {

struct LockedPackage {
  std::string name, version, arch, filename, repo_url;
  crypto::Digest sha256;
  uint64_t size = 0;
  // The relationships, as in Packages, so that a locked build resolves each
  // stage of a `from:` chain offline, against the locked set alone.
  std::string depends, pre_depends, provides, multi_arch;
  friend bool operator==(const LockedPackage&, const LockedPackage&) = default;
};

// An upstream archive of a spec's `archives:`, as built for one architecture.
struct LockedArchive {
  std::string name, version, url;  // name and version may be ""
  crypto::Digest sha256;
  friend bool operator==(const LockedArchive&, const LockedArchive&) = default;
};

struct LockFile {
  int version = 1;
  std::vector<AptSource> sources;  // url, suites, components (and keyring when a path)
  std::map<std::string /*arch*/, std::vector<LockedPackage>> packages;
  // The spec chain's archives per architecture ("archives" in the JSON, absent
  // when there are none).
  std::map<std::string /*arch*/, std::vector<LockedArchive>> archives;
  std::string spec_digest;  // sha256 of the inputs that determine resolution, for --frozen
  // The Release Date of each suite the packages came from (by its dists/SUITE/
  // URL), so a locked build records the same provenance as the build it locks.
  std::map<std::string, std::string> release_dates;
  // A registry image the chain starts from (`from: docker://...`): the
  // reference as the spec gives it and the digest it resolved to (the index's,
  // else the manifest's). A locked build pulls that digest; --frozen refuses a
  // tag that has moved. Empty for other bases ("base_image" absent in the JSON).
  std::string base_image;
  std::string base_image_digest;
};

LockedPackage lock_package(const PackageRecord& record);

std::string to_json(const LockFile& lock);

// Index records for locked packages (relationships parsed back), so a locked
// build resolves against exactly the locked set. Errors name the package.
Result<std::vector<PackageRecord>> records_from_lock(const std::vector<LockedPackage>& locked,
                                                     const std::string& origin);

Result<LockFile> parse_lock(std::string_view json, const std::string& origin);

}  // namespace distill::debian
