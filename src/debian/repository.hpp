// Loading apt repositories into a PackageIndex, the way apt's `update` does:
// dists/<suite>/InRelease (or Release + Release.gpg) verified with gpgv, then the
// Packages index of each component, chosen and checked by the SHA256 list of the
// signed Release file (https://wiki.debian.org/DebianRepository/Format).
//
// Packages files go through the ContentCache keyed by their SHA-256 (by-hash URL
// first when the Release says Acquire-By-Hash), so a warm build downloads only the
// small InRelease files.
#pragma once

#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "debian/apt_sources.hpp"
#include "debian/package_index.hpp"
#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "util/result.hpp"

namespace distill::debian {

struct RepositoryOptions {
  bool allow_expired = false;  // ignore Valid-Until (as Check-Valid-Until: no)
  std::time_t now = 0;         // for Valid-Until and Date; 0 = the current time
  // Accept a Release older than the newest seen for its suite (a rollback).
  bool allow_release_rollback = false;
  // Where the newest Release Date per suite is kept (ReleaseHistory); when
  // empty, the loaders use <cache>/release-dates.
  std::filesystem::path release_history;
  unsigned jobs = 4;  // parallel transfers
  // InRelease bodies this process fetched moments ago, by URL: used instead of
  // a second request for the same URL, and verified all the same.
  const std::map<std::string, std::string>* fetched_inrelease = nullptr;
};

struct LoadedIndex {
  PackageIndex index;
  // "sha256:<hex>" of every Packages file used, sorted: a cache key for resolution.
  std::vector<std::string> index_digests;
};

Result<LoadedIndex> load_repositories(net::HttpClient& client, net::ContentCache& cache,
                                      const std::vector<AptSource>& sources,
                                      const std::string& arch, const RepositoryOptions& options);

}  // namespace distill::debian
