// The Debian changelog a binary package ships: usr/share/doc/<package>/
// changelog.Debian.gz in its data.tar (a native package, whose version has no
// Debian revision, may ship it as changelog.gz), read from the .deb in the content
// cache (downloaded first when missing, verified by the SHA256 of the
// Packages index). A doc directory that is a symlink within the same .deb
// (libfoo1 -> libfoo-common) is followed.
//
// What was read is cached under the .deb's SHA256 in <cache>/changelogs/
// (the text, or the fact that there is none), so asking again opens no .deb.
#pragma once

#include <string>
#include <vector>

#include "debian/package_index.hpp"
#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "util/result.hpp"

namespace distill::debian {

struct PackageChangelog {
  bool found = false;
  std::string text;  // decompressed
  std::string note;  // when not found: why ("no changelog in the package")
};

// Bound on a changelog's decompressed size (Debian's largest are a few MiB).
inline constexpr size_t k_max_changelog = size_t{32} << 20;

// The changelog of each record, in the same order. `records` must carry
// repo_url, filename, sha256 and size. A .deb that fails to download or to
// verify is an error naming the package; one that lacks the file is not.
Result<std::vector<PackageChangelog>> package_changelogs(
    net::HttpClient& client, net::ContentCache& cache,
    const std::vector<const PackageRecord*>& records, unsigned jobs = 4);

// The changelog in a .deb file (no cache involved), of package `name` at `version`.
Result<PackageChangelog> read_deb_changelog(const std::filesystem::path& deb,
                                            const std::string& name, const std::string& version,
                                            const std::string& label);

}  // namespace distill::debian
