// Pruning the cache directory (`distill prune`): the entries no distill
// process has used for a while are removed; everything in the cache can be
// made or fetched again, so pruning only costs the next build that needs an
// entry its time.
//
// Use is read from the file system's access times, which every read of an
// entry moves: a warm build reads each layer record it looks up and the stamp
// of each .deb or blob it finds, so those count as used even when the .deb or
// blob itself is not read. Under Linux's default `relatime` a read moves the
// access time only when it is a day old, so there an entry counts as used
// until a day past its access time; on a file system mounted `noatime`,
// where reads leave no trace, only --all (unused_for 0) prunes. An entry is
// known by its kind (the directory under the cache):
//
// - `sha256/<hex>` with its stamp `verified/<hex>`: one entry, used when
//   either was; removed together.
// - `blobs/sha256/<hex>` (layer blobs): kept while a kept record under
//   `layers/` names its digest, however old; otherwise by its own times.
// - `layers/`, `controls/`, `libraries/`, `resolutions/`, `releases/`,
//   `refs/`, `contents/`, `listings/`, `base-layers/`, `changelogs/`,
//   `outdated/`, `sboms/`, `views/`: each file by its own times.
// - `tmp/`: what killed processes left (their temporaries), removed whatever
//   their age unless a live process holds them.
// - `release-dates/` is never removed: it remembers the newest Release date
//   seen of each suite, which refuses a mirror's replay of an older one.
//
// Nothing outside those directories is touched, symbolic links are not
// followed, and a directory without the sha256/, tmp/ and verified/ every
// cache has is not taken for one.
// The cache's lock is held exclusively meanwhile (net::ContentCache::
// lock_exclusive), so no build reads an entry while it goes: a prune does not
// start while a build, copy or pull has the cache open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/clock.hpp"
#include "util/result.hpp"

namespace distill::image {

// How the cache's file system keeps access times.
enum class AccessTimes {
  FromMount,  // as statvfs(3) says of the cache directory's mount
  Exact,      // every read (strictatime)
  Daily,      // a read when the access time is a day old (relatime)
  Untracked,  // never (noatime)
};

struct PruneOptions {
  // Entries whose last use (the later of their access and modification
  // times, plus a day under relatime) is at least this many seconds before
  // now are removed; 0: every entry.
  int64_t unused_for = int64_t{30} * 24 * 3600;
  bool dry_run = false;  // removes nothing; the result says what would go
  AccessTimes access_times = AccessTimes::FromMount;
};

// What one kind of entry (a directory of the cache) had and lost.
struct PruneCount {
  std::string kind;  // "sha256", "blobs", "layers", ...
  uint64_t removed_files = 0;
  uint64_t removed_bytes = 0;
  uint64_t kept_files = 0;
  uint64_t kept_bytes = 0;
};

struct PruneResult {
  std::vector<PruneCount> kinds;     // those the cache has, in ContentCache::kinds() order
  std::vector<std::string> removed;  // paths relative to the cache, sorted
  [[nodiscard]] PruneCount total() const;
};

// Removes the cache's entries unused for options.unused_for by `clock`'s now.
// Errors: `dir` is not a distill cache (see above) or is in use, its file
// system keeps no access times and unused_for is not 0, or a file could not
// be removed (what was removed before it stays removed).
Result<PruneResult> prune_cache(const std::filesystem::path& dir, const PruneOptions& options,
                                const util::Clock& clock);

}  // namespace distill::image
