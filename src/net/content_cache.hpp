// ContentCache: a content-addressed file store on disk, keyed by SHA-256.
//
// Layout: <dir>/sha256/<hex> holds verified content, <dir>/tmp/ holds
// downloads in progress. An entry is published by rename(2) only after its size
// and digest were checked, so readers (and other distill processes sharing the
// cache) never see a partial or wrong file. Used for .deb files, Packages
// indices and image blobs.
//
// The cache does not trust itself: <dir>/verified/<hex> records the entry's
// stamp (size, mtime) when it was verified, and contains() hashes any entry
// whose stamp changed since, dropping it when it no longer holds its digest
// (so the next fetch_all() downloads it again).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.hpp"
#include "net/http_client.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace distill::net {

// Sees a download's bytes as they arrive, before they are verified, so that
// work on them can overlap the transfer. Whatever it makes must be thrown away
// unless fetch_all() then succeeds. restart(): the transfer starts over (a
// retry, or the next URL), and the bytes seen so far are void.
class FetchTap {
 public:
  virtual ~FetchTap() = default;
  virtual void restart() = 0;
  virtual void write(std::string_view data) = 0;
};

struct FetchItem {
  std::vector<std::string> urls;  // alternatives, tried in order
  crypto::Digest sha256;
  uint64_t size = 0;        // 0 = unknown
  std::string label;        // e.g. the package name, for messages
  FetchTap* tap = nullptr;  // optional, not owned; only for a transfer that happens
};

struct FetchProgress {
  size_t items_done = 0;
  size_t items_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

class ContentCache {
 public:
  // When open() removes what killed processes left in the cache (their
  // temporaries): at once, or where the caller runs sweep() (beside other
  // work: a sweep is safe while temporaries are being made).
  enum class Sweep { Now, ByCaller };

  // Creates dir/sha256/ and dir/tmp/ when missing. While a ContentCache of
  // `dir` (or a copy of it) lives, this process holds a shared flock on
  // dir/lock, which `distill prune` takes exclusively: opening waits while a
  // prune runs (`waiting`, when given, is called once before it waits), and a
  // prune does not start while the cache is in use.
  static Result<ContentCache> open(const std::filesystem::path& dir, Sweep sweep = Sweep::Now,
                                   const std::function<void()>& waiting = {});

  // dir/lock held exclusively, for as long as the Fd lives; an error naming
  // the directory when another process has the cache open (not waited for).
  static Result<util::Fd> lock_exclusive(const std::filesystem::path& dir);

  // Removes the temporaries in `dir`'s cache that no live process holds:
  // downloads in tmp/, and those beside the entries of every kind().
  static void sweep(const std::filesystem::path& dir);

  // The cache's directories of entries, each a kind `distill prune` counts
  // (tmp/ holds only downloads in progress): sha256/ and verified/ (.debs
  // and their stamps), blobs/ and layers/ (layers and their records), and
  // the records of what was read or resolved (controls/, libraries/, ...).
  // Constant data, nothing to destroy: the cache's sweep may run on a pool
  // thread as the process exits.
  static std::span<const std::string_view> kinds();

  // dir/sha256/<hex>
  [[nodiscard]] std::filesystem::path path_for(const crypto::Digest& digest) const;
  // Whether a verified entry is present: an entry changed since it was
  // verified is hashed again, and removed (false) if damaged.
  [[nodiscard]] bool contains(const crypto::Digest& digest) const;

  // Asks the kernel to bring a present entry into the page cache in the
  // background (posix_fadvise WILLNEED), so that the reader that maps it next
  // finds its pages in memory rather than waiting on the disk for each window
  // (an evicted libc6 .deb held a warm base build's thread 20 ms). Advice only.
  void read_ahead(const crypto::Digest& digest) const;

  // Verifies that sha256(data) == expected (else Error(Corrupt)), then
  // publishes atomically.
  Status insert(const crypto::Digest& expected, std::string_view data);

  // Hashes `file`, moves it in (copies when rename is impossible) and returns
  // its cache path. The source file is consumed: it is gone on success.
  Result<std::filesystem::path> insert_file(const std::filesystem::path& file);

  // Downloads every missing item, up to `jobs` transfers at once. Each streams
  // into a unique temp file in dir/tmp while hashing; size and sha256 are
  // verified before the rename into sha256/<hex>. A mismatch is Error(Corrupt)
  // "label: <url>: sha256 mismatch (expected X, got Y)". A failed item does not
  // stop the others; the first error (in item order) is returned. Items
  // already present cost one stat. `progress` may be called from any worker
  // thread, but never concurrently. `item_done` is called (from the worker
  // thread) as each transfer ends, with its outcome: the item is in the cache
  // if that is OK. Items that need no transfer are not reported.
  Status fetch_all(HttpClient& client, const std::vector<FetchItem>& items, unsigned jobs,
                   const std::function<void(const FetchProgress&)>& progress = {},
                   const std::function<void(const FetchItem&, const Status&)>& item_done = {});

  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

 private:
  ContentCache(std::filesystem::path dir, std::shared_ptr<util::Fd> in_use)
      : m_dir(std::move(dir)), m_in_use(std::move(in_use)) {}
  std::filesystem::path m_dir;
  std::shared_ptr<const util::Fd> m_in_use;  // dir/lock, flock shared
};

// $XDG_CACHE_HOME/distill, else $HOME/.cache/distill.
std::filesystem::path default_cache_dir();

}  // namespace distill::net
