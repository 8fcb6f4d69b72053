// ContentCache: the content-addressed download cache (see content_cache.hpp).
//
// Publishing protocol, safe for several processes sharing one cache: write to
// a fresh mkostemp(3) file (O_EXCL) under <dir>/tmp, verify size and SHA-256,
// then rename(2) into <dir>/sha256/<hex>. rename is atomic within a file
// system, and two writers of the same digest publish identical bytes, so the
// last rename winning is harmless. A temporary file is flock()ed by its
// writer while it lives and removed on SIGINT/SIGTERM; one left by a killed
// process (no lock held) is swept when the cache is next opened.
#include "net/content_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>

#include "util/atomic_file.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/file_stamp.hpp"
#include "util/interrupt_cleanup.hpp"
#include "util/thread_pool.hpp"

namespace distill::net {

namespace {

constexpr uint64_t k_progress_step = 1U << 20;

Result<crypto::Digest> hash_file(const std::filesystem::path& path) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return util::errno_error(path, errno);
  }
  crypto::Sha256 hasher;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return util::errno_error(path, errno);
    }
    if (n == 0) {
      break;
    }
    hasher.update(buffer.data(), static_cast<size_t>(n));
  }
  return hasher.finish();
}

// dir/verified/<hex> holds the stamp (size:mtime) of dir/sha256/<hex> as it was
// when last verified; an entry whose stamp still matches is trusted unhashed.
std::filesystem::path stamp_path(const std::filesystem::path& dir, const crypto::Digest& digest) {
  return dir / "verified" / digest.hex();
}

void record_stamp(const std::filesystem::path& dir, const crypto::Digest& digest) {
  if (auto stamp = util::stamp_of(dir / "sha256" / digest.hex())) {
    (void)util::write_file_atomic(stamp_path(dir, digest), stamp->str());
  }
}

// dir/lock, made when missing (empty: only its flock matters).
Result<util::Fd> open_lock(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "lock";
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return util::errno_error(path, errno);
  }
  return fd;
}

// What killed processes left: downloads in tmp/, and the temporaries beside
// the entries of every kind. Only those no live process holds locked are
// removed.
void sweep_abandoned_temps(const std::filesystem::path& dir) {
  util::sweep_abandoned(dir / "tmp", "part.");  // downloads named the older way
  util::sweep_abandoned(dir / "tmp", ".", ".tmp.");
  for (const auto& kind : ContentCache::kinds()) {
    // and in blobs/sha256/ and layers/groups/ below
    util::sweep_abandoned_below(dir / kind, ".", ".tmp.");
  }
}

// Shared progress accounting for fetch_all, reported under one mutex.
class ProgressTracker {
 public:
  ProgressTracker(const std::function<void(const FetchProgress&)>& callback, FetchProgress initial)
      : m_callback(callback), m_state(initial) {}

  void add_bytes(int64_t delta) {
    std::lock_guard lock(m_mutex);
    m_state.bytes_done = static_cast<uint64_t>(static_cast<int64_t>(m_state.bytes_done) + delta);
    if (m_callback && m_state.bytes_done >= m_last_reported + k_progress_step) {
      m_last_reported = m_state.bytes_done;
      m_callback(m_state);
    }
  }
  void item_done() {
    std::lock_guard lock(m_mutex);
    ++m_state.items_done;
    if (m_callback) {
      m_last_reported = m_state.bytes_done;
      m_callback(m_state);
    }
  }
  void report() {
    std::lock_guard lock(m_mutex);
    if (m_callback) {
      m_callback(m_state);
    }
  }

 private:
  const std::function<void(const FetchProgress&)>& m_callback;
  std::mutex m_mutex;
  FetchProgress m_state;
  uint64_t m_last_reported = 0;
};

// Downloads one item from one URL into a verified cache entry.
Status fetch_one(HttpClient& client, const ContentCache& cache, const FetchItem& item,
                 const std::string& url, ProgressTracker& tracker) {
  const std::string& label = item.label.empty() ? item.sha256.str() : item.label;
  // Locked while it lives (a sweep removes only what nobody holds) and removed
  // by the interrupt handler on Ctrl-C.
  DISTILL_TRY(util::AtomicFile temp, util::AtomicFile::create(cache.dir() / "tmp" / "part"));
  crypto::Sha256 hasher;
  uint64_t received = 0;
  if (item.tap != nullptr) {
    item.tap->restart();  // another URL of the item may have sent bytes before
  }
  auto sink = [&](std::string_view data) -> Status {
    if (item.size != 0 && received + data.size() > item.size) {
      return make_error(ErrorKind::Corrupt, label + ": " + url + ": size mismatch (expected " +
                                                std::to_string(item.size) + " bytes, got more)");
    }
    DISTILL_CHECK(temp.write(data));
    hasher.update(data);
    if (item.tap != nullptr) {
      item.tap->write(data);
    }
    received += data.size();
    tracker.add_bytes(static_cast<int64_t>(data.size()));
    return {};
  };
  Status reset_status;
  auto sink_reset = [&] {
    tracker.add_bytes(-static_cast<int64_t>(received));
    received = 0;
    hasher.reset();
    if (item.tap != nullptr) {
      item.tap->restart();
    }
    if (reset_status.ok() &&
        (::ftruncate(temp.fd(), 0) != 0 || ::lseek(temp.fd(), 0, SEEK_SET) != 0)) {
      reset_status = util::errno_error(temp.temp_path(), errno);
    }
  };
  HttpRequest request;
  request.url = url;
  auto response = client.download(request, sink, sink_reset, {});
  if (!reset_status.ok()) {
    tracker.add_bytes(-static_cast<int64_t>(received));
    return reset_status;
  }
  if (!response.ok()) {
    tracker.add_bytes(-static_cast<int64_t>(received));
    const Error& error = response.error();
    // Sink errors already name the label; transfer errors get it prefixed.
    if (error.message.rfind(label + ": ", 0) == 0) {
      return error;
    }
    return error.context(label);
  }
  if (item.size != 0 && received != item.size) {
    tracker.add_bytes(-static_cast<int64_t>(received));
    return make_error(ErrorKind::Corrupt, label + ": " + url + ": size mismatch (expected " +
                                              std::to_string(item.size) + " bytes, got " +
                                              std::to_string(received) + ")");
  }
  crypto::Digest got = hasher.finish();
  if (got != item.sha256) {
    tracker.add_bytes(-static_cast<int64_t>(received));
    return make_error(ErrorKind::Corrupt, label + ": " + url + ": sha256 mismatch (expected " +
                                              item.sha256.hex() + ", got " + got.hex() + ")");
  }
  DISTILL_CHECK(temp.commit_as(cache.path_for(item.sha256)));
  record_stamp(cache.dir(), item.sha256);
  return {};
}

}  // namespace

void ContentCache::sweep(const std::filesystem::path& dir) { sweep_abandoned_temps(dir); }

std::span<const std::string_view> ContentCache::kinds() {
  static constexpr std::array<std::string_view, 17> k_kinds{
      "sha256",   "verified",    "blobs",       "layers",   "controls",      "libraries",
      "listings", "base-layers", "resolutions", "releases", "release-dates", "refs",
      "contents", "changelogs",  "outdated",    "sboms",    "views"};
  return k_kinds;
}

Result<ContentCache> ContentCache::open(const std::filesystem::path& dir, Sweep sweep,
                                        const std::function<void()>& waiting) {
  for (const char* sub : {"sha256", "tmp", "verified"}) {
    std::error_code ec;
    std::filesystem::create_directories(dir / sub, ec);
    if (ec) {
      return make_error(ErrorKind::Io, (dir / sub).string() + ": " + ec.message());
    }
  }
  DISTILL_TRY(util::Fd in_use, open_lock(dir));
  int rc = ::flock(in_use.get(), LOCK_SH | LOCK_NB);
  if (rc != 0 && errno == EWOULDBLOCK) {  // a prune has it
    if (waiting) {
      waiting();
    }
    while ((rc = ::flock(in_use.get(), LOCK_SH)) != 0 && errno == EINTR) {
    }
  }
  if (rc != 0) {
    return util::errno_error(dir / "lock", errno);
  }
  if (sweep == Sweep::Now) {
    sweep_abandoned_temps(dir);
  }
  return ContentCache(dir, std::make_shared<util::Fd>(std::move(in_use)));
}

Result<util::Fd> ContentCache::lock_exclusive(const std::filesystem::path& dir) {
  DISTILL_TRY(util::Fd lock, open_lock(dir));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return make_error(ErrorKind::Io, dir.string() +
                                           ": the cache is in use by another distill process "
                                           "(a build, copy or pull); try again when it ends");
    }
    return util::errno_error(dir / "lock", errno);
  }
  return lock;
}

std::filesystem::path ContentCache::path_for(const crypto::Digest& digest) const {
  return m_dir / "sha256" / digest.hex();
}

bool ContentCache::contains(const crypto::Digest& digest) const {
  if (digest.empty()) {
    return false;
  }
  std::filesystem::path entry = path_for(digest);
  auto stamp = util::stamp_of(entry);
  if (!stamp) {
    return false;
  }
  auto recorded = util::read_file(stamp_path(m_dir, digest));
  if (recorded.ok() && util::FileStamp::parse(*recorded) == stamp) {
    return true;  // unchanged since it was verified
  }
  // Written since, or never stamped: hash it; a damaged entry is dropped, so
  // the caller fetches it again.
  auto got = hash_file(entry);
  if (!got.ok() || *got != digest) {
    ::unlink(entry.c_str());
    ::unlink(stamp_path(m_dir, digest).c_str());
    return false;
  }
  record_stamp(m_dir, digest);
  return true;
}

void ContentCache::read_ahead(const crypto::Digest& digest) const {
  util::Fd fd(::open(path_for(digest).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid()) {
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_WILLNEED);
  }
}

Status ContentCache::insert(const crypto::Digest& expected, std::string_view data) {
  crypto::Digest got = crypto::sha256(data);
  if (got != expected) {
    return make_error(ErrorKind::Corrupt, "cache insert: sha256 mismatch (expected " +
                                              expected.hex() + ", got " + got.hex() + ")");
  }
  if (contains(expected)) {
    return {};
  }
  DISTILL_TRY(util::AtomicFile temp, util::AtomicFile::create(m_dir / "tmp" / "part"));
  DISTILL_CHECK(temp.write(data));
  DISTILL_CHECK(temp.commit_as(path_for(expected)));
  record_stamp(m_dir, expected);
  return {};
}

Result<std::filesystem::path> ContentCache::insert_file(const std::filesystem::path& file) {
  DISTILL_TRY(crypto::Digest digest, hash_file(file));
  std::filesystem::path destination = path_for(digest);
  if (contains(digest)) {
    ::unlink(file.c_str());
    return destination;
  }
  if (::chmod(file.c_str(), 0644) == 0 && ::rename(file.c_str(), destination.c_str()) == 0) {
    record_stamp(m_dir, digest);
    return destination;
  }
  // Another file system (or a file we may not chmod): copy, verifying as we go.
  DISTILL_TRY(std::string data, util::read_file(file));
  DISTILL_CHECK(insert(digest, data));
  ::unlink(file.c_str());
  return destination;
}

Status ContentCache::fetch_all(
    HttpClient& client, const std::vector<FetchItem>& items, unsigned jobs,
    const std::function<void(const FetchProgress&)>& progress,
    const std::function<void(const FetchItem&, const Status&)>& item_done) {
  // One transfer per missing digest, even if several items share it.
  std::vector<const FetchItem*> missing;
  std::map<crypto::Digest, bool> seen;
  std::vector<Error> errors(items.size());
  std::vector<bool> failed(items.size(), false);
  FetchProgress initial;
  initial.items_total = items.size();
  for (size_t i = 0; i < items.size(); ++i) {
    const FetchItem& item = items[i];
    if (item.sha256.empty()) {
      failed[i] = true;
      errors[i] = make_error(ErrorKind::InvalidInput, item.label + ": no sha256 to verify against");
      continue;
    }
    if (item.urls.empty()) {
      failed[i] = true;
      errors[i] = make_error(ErrorKind::InvalidInput, item.label + ": no URL to download from");
      continue;
    }
    if (seen.contains(item.sha256) || contains(item.sha256)) {
      seen[item.sha256] = true;
      ++initial.items_done;
      continue;
    }
    seen[item.sha256] = true;
    missing.push_back(&item);
    initial.bytes_total += item.size;
  }
  ProgressTracker tracker(progress, initial);
  tracker.report();

  std::vector<Error> missing_errors(missing.size());
  // One byte per item, not std::vector<bool>: workers write neighbouring
  // entries at once, and vector<bool> packs them into shared words.
  std::vector<char> missing_failed(missing.size(), 0);
  util::parallel_for(missing.size(), jobs, [&](size_t index) {
    const FetchItem& item = *missing[index];
    Error first;
    bool have_error = false;
    for (const std::string& url : item.urls) {
      Status status = fetch_one(client, *this, item, url, tracker);
      if (status.ok()) {
        have_error = false;
        break;
      }
      if (!have_error) {
        first = std::move(status).error();
        have_error = true;
      }
    }
    if (have_error) {
      missing_failed[index] = 1;
      missing_errors[index] = std::move(first);
    }
    tracker.item_done();
    if (item_done) {
      item_done(item, have_error ? Status(missing_errors[index]) : Status());
    }
  });

  // The first error in item order: validation errors and transfer errors alike.
  size_t m = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (failed[i]) {
      return errors[i];
    }
    if (m < missing.size() && missing[m] == &items[i]) {
      if (missing_failed[m] != 0) {
        return missing_errors[m];
      }
      ++m;
    }
  }
  return {};
}

std::filesystem::path default_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return std::filesystem::path(xdg) / "distill";
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    return std::filesystem::path(home) / ".cache" / "distill";
  }
  return std::filesystem::temp_directory_path() / ("distill-cache-" + std::to_string(::getuid()));
}

}  // namespace distill::net
