// prune_cache: see cache_prune.hpp.
#include "image/cache_prune.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "crypto/sha256.hpp"
#include "net/content_cache.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::image {

namespace {

// A file of the cache and when it was last used: the later of its access and
// modification times, in seconds.
struct CacheFile {
  std::filesystem::path path;  // absolute
  uint64_t bytes = 0;
  int64_t used = 0;
  dev_t device = 0;
  ino_t inode = 0;
};

std::optional<CacheFile> cache_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return CacheFile{path, static_cast<uint64_t>(st.st_size),
                   std::max<int64_t>(st.st_atim.tv_sec, st.st_mtim.tv_sec), st.st_dev, st.st_ino};
}

// Whether `dir` is a directory itself (not a link to one).
bool is_real_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::symlink_status(dir, ec).type() == std::filesystem::file_type::directory;
}

// The regular files under `dir`, at any depth, links not followed; names
// starting with '.' (temporaries, whose owner may be alive) are left out. A
// file under several names (a build's layer records) has its bytes counted
// under the first: its names share their times, so they go or stay together.
Result<std::vector<CacheFile>> files_under(const std::filesystem::path& dir) {
  std::vector<CacheFile> files;
  std::set<std::pair<dev_t, ino_t>> seen;
  if (!is_real_directory(dir)) {
    return files;
  }
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') {
      if (it->is_directory(ec)) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (auto file = cache_file(it->path())) {
      if (!seen.emplace(file->device, file->inode).second) {
        file->bytes = 0;
      }
      files.push_back(std::move(*file));
    }
  }
  if (ec) {
    return make_error(ErrorKind::Io, dir.string() + ": " + ec.message());
  }
  return files;
}

// The bytes of `path`, read without moving its access time (which is what
// tells a prune the file is in use: a prune that moved it would keep every
// record it reads): O_NOATIME where the file's owner reads it, else the old
// access time put back.
Result<std::string> read_unnoticed(const std::filesystem::path& path) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME));
  bool put_back = false;
  if (!fd.valid() && errno == EPERM) {
    fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    put_back = true;
  }
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    return util::errno_error(path, errno);
  }
  DISTILL_TRY(std::string text, util::read_fd(fd.get(), path));
  if (put_back) {
    const timespec times[2] = {st.st_atim, {0, UTIME_OMIT}};
    ::futimens(fd.get(), times);  // at worst the record counts as used today
  }
  return text;
}

// The digests "sha256:<64 hex>" that `text` names, by their hex.
void add_digests(std::string_view text, std::set<std::string>& out) {
  constexpr size_t k_length = std::string_view("sha256:").size() + 64;
  for (size_t at = text.find("sha256:"); at != std::string_view::npos;
       at = text.find("sha256:", at + 1)) {
    if (auto digest = crypto::Digest::parse(text.substr(at, k_length)); digest.ok()) {
      out.insert(digest->hex());
    }
  }
}

class Pruner {
 public:
  // `slack`: seconds an access time may lag the last read (a day under relatime).
  Pruner(std::filesystem::path dir, const PruneOptions& options, int64_t now, int64_t slack)
      : m_dir(std::move(dir)), m_options(options), m_now(now), m_slack(slack) {
    for (const auto& kind : net::ContentCache::kinds()) {
      m_counts[std::string(kind)].kind = kind;
    }
  }

  Status run() {
    DISTILL_CHECK(prune_content());
    DISTILL_CHECK(prune_layers());
    for (std::string_view name : net::ContentCache::kinds()) {
      const std::string kind(name);
      if (kind == "sha256" || kind == "verified" || kind == "layers" || kind == "blobs") {
        continue;  // done above
      }
      DISTILL_TRY(auto files, files_under(m_dir / kind));
      for (const auto& file : files) {
        if (kind == "release-dates") {
          keep(kind, file);
        } else {
          DISTILL_CHECK(decide(kind, file));
        }
      }
    }
    return {};
  }

  PruneResult result() && {
    PruneResult result;
    for (const auto& kind : net::ContentCache::kinds()) {
      if (is_real_directory(m_dir / kind)) {
        result.kinds.push_back(m_counts[std::string(kind)]);
      }
    }
    std::sort(m_removed.begin(), m_removed.end());
    result.removed = std::move(m_removed);
    return result;
  }

 private:
  [[nodiscard]] bool unused(int64_t used) const {
    return m_options.unused_for == 0 || used + m_slack <= m_now - m_options.unused_for;
  }

  void keep(const std::string& kind, const CacheFile& file) {
    PruneCount& count = m_counts[kind];
    ++count.kept_files;
    count.kept_bytes += file.bytes;
  }

  // Removes `file` (unless a dry run), counted under `kind`.
  Status remove(const std::string& kind, const CacheFile& file) {
    if (!m_options.dry_run && ::unlink(file.path.c_str()) != 0 && errno != ENOENT) {
      return make_error(ErrorKind::Io,
                        file.path.string() + ": cannot remove: " + std::strerror(errno));
    }
    PruneCount& count = m_counts[kind];
    ++count.removed_files;
    count.removed_bytes += file.bytes;
    m_removed.push_back(file.path.lexically_relative(m_dir).string());
    return {};
  }

  Status decide(const std::string& kind, const CacheFile& file) {
    if (unused(file.used)) {
      return remove(kind, file);
    }
    keep(kind, file);
    return {};
  }

  // sha256/<hex> and its stamp verified/<hex>, as one entry: a lookup reads
  // the stamp, not the entry, so either one's use counts. Stamps without an
  // entry are left over from a removal: by their own times.
  Status prune_content() {
    DISTILL_TRY(auto entries, files_under(m_dir / "sha256"));
    DISTILL_TRY(auto stamps, files_under(m_dir / "verified"));
    // The stamps not yet paired with an entry, by name.
    std::map<std::string, const CacheFile*> unpaired;
    for (const auto& stamp : stamps) {
      unpaired.emplace(stamp.path.filename().string(), &stamp);
    }
    for (const auto& entry : entries) {
      auto stamp = unpaired.find(entry.path.filename().string());
      if (stamp == unpaired.end()) {
        DISTILL_CHECK(decide("sha256", entry));
        continue;
      }
      const CacheFile& paired = *stamp->second;
      unpaired.erase(stamp);
      if (unused(std::max(entry.used, paired.used))) {
        DISTILL_CHECK(remove("sha256", entry));
        DISTILL_CHECK(remove("verified", paired));
      } else {
        keep("sha256", entry);
        keep("verified", paired);
      }
    }
    for (const auto& [name, stamp] : unpaired) {
      DISTILL_CHECK(decide("verified", *stamp));
    }
    return {};
  }

  // Layer records by their own times; then the layer blobs, each kept while
  // a kept record names it (a rebuild that finds its layers reads the
  // records, not the blobs), else by its own times.
  Status prune_layers() {
    DISTILL_TRY(auto records, files_under(m_dir / "layers"));
    std::set<std::string> named;
    for (const auto& record : records) {
      if (unused(record.used)) {
        DISTILL_CHECK(remove("layers", record));
        continue;
      }
      keep("layers", record);
      auto text = read_unnoticed(record.path);
      if (!text.ok()) {
        return text.error().context("a layer record");
      }
      add_digests(*text, named);
    }
    DISTILL_TRY(auto blobs, files_under(m_dir / "blobs"));
    for (const auto& blob : blobs) {
      if (named.count(blob.path.filename().string()) != 0) {
        keep("blobs", blob);
      } else {
        DISTILL_CHECK(decide("blobs", blob));
      }
    }
    return {};
  }

  std::filesystem::path m_dir;
  const PruneOptions& m_options;
  int64_t m_now;
  int64_t m_slack;
  std::map<std::string, PruneCount> m_counts;
  std::vector<std::string> m_removed;
};

}  // namespace

PruneCount PruneResult::total() const {
  PruneCount sum;
  sum.kind = "total";
  for (const auto& kind : kinds) {
    sum.removed_files += kind.removed_files;
    sum.removed_bytes += kind.removed_bytes;
    sum.kept_files += kind.kept_files;
    sum.kept_bytes += kind.kept_bytes;
  }
  return sum;
}

Result<PruneResult> prune_cache(const std::filesystem::path& dir, const PruneOptions& options,
                                const util::Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return make_error(ErrorKind::NotFound, dir.string() + ": no such cache directory");
  }
  // Every cache distill opened has these three (net::ContentCache::open);
  // another directory that happens to hold a `refs/` or a `views/` (a git
  // repository) is not one.
  for (const char* sub : {"sha256", "tmp", "verified"}) {
    if (!is_real_directory(dir / sub)) {
      return make_error(ErrorKind::InvalidInput, dir.string() +
                                                     ": not a distill cache (it has no " + sub +
                                                     "/ directory); nothing removed");
    }
  }
  // No build reads an entry while it goes.
  DISTILL_TRY(const util::Fd lock, net::ContentCache::lock_exclusive(dir));
  AccessTimes access = options.access_times;
  if (access == AccessTimes::FromMount) {
    struct statvfs fs {};
    access = ::statvfs(dir.c_str(), &fs) != 0 ? AccessTimes::Daily
             : (fs.f_flag & ST_NOATIME) != 0  ? AccessTimes::Untracked
             : (fs.f_flag & ST_RELATIME) != 0 ? AccessTimes::Daily
                                              : AccessTimes::Exact;
  }
  if (access == AccessTimes::Untracked && options.unused_for != 0) {
    return make_error(ErrorKind::Unsupported,
                      dir.string() +
                          ": its file system is mounted noatime, so reads leave no trace and "
                          "what is in use cannot be told; only --all prunes it");
  }
  if (!options.dry_run) {
    net::ContentCache::sweep(dir);  // what killed processes left
  }
  Pruner pruner(dir, options, clock.now(), access == AccessTimes::Daily ? int64_t{24} * 3600 : 0);
  DISTILL_CHECK(pruner.run());
  return std::move(pruner).result();
}

}  // namespace distill::image
