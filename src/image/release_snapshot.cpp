// The sources' Release files as the mirror has them now; see release_snapshot.hpp.
#include "image/release_snapshot.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>
#include <optional>

#include "crypto/sha256.hpp"
#include "debian/release_fetch.hpp"
#include "debian/release_history.hpp"
#include "image/layer_cache.hpp"
#include "net/http_client.hpp"
#include "util/file_io.hpp"
#include "util/text.hpp"
#include "util/thread_pool.hpp"

namespace distill::image {

namespace {

// What identifies one version of a copy: its size, inode and change time
// (which no one can set, and which writing, renaming or touching it moves).
std::string copy_stamp(const struct stat& st) {
  return std::to_string(st.st_size) + " " + std::to_string(st.st_ino) + " " +
         std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
}

std::filesystem::path record_path(const std::filesystem::path& copy) {
  return copy.string() + ".record";
}

// The record: the stamp, the digest and the Date, a line each. Best effort,
// like the copy: a record not written only costs time.
void write_record(const std::filesystem::path& copy, const std::string& stamp,
                  const std::string& sha256, const std::string& date) {
  (void)util::write_file_atomic(record_path(copy), stamp + "\n" + sha256 + "\n" + date + "\n");
}

// Begins as a clear-signed message and ends with its signature (what a
// truncated or emptied copy does not).
bool whole_clear_signed(std::string_view text) {
  constexpr std::string_view k_begin = "-----BEGIN PGP SIGNED MESSAGE-----";
  constexpr std::string_view k_end = "-----END PGP SIGNATURE-----";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text.starts_with(k_begin) && text.ends_with(k_end) &&
         text.find("-----BEGIN PGP SIGNATURE-----") != std::string_view::npos;
}

}  // namespace

Result<std::string> ReleaseSnapshot::fingerprint(const std::vector<debian::AptSource>& sources) {
  std::vector<std::string> urls;
  for (const auto& source : sources) {
    for (const auto& suite : source.suites) {
      urls.push_back(debian::suite_base_url(source, suite) + "InRelease");
    }
  }
  // Once per process: every stage and image keys its resolutions on the
  // same Release files, so they are fetched (or read) only once.
  std::string memo_key = util::join(urls, " ");
  if (auto known = m_fingerprints.find(memo_key); known != m_fingerprints.end()) {
    return known->second;
  }
  std::vector<std::optional<Known>> known(urls.size());
  std::vector<size_t> stale;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (auto kept = m_known.find(urls[i]); kept != m_known.end()) {
      known[i] = kept->second;
    } else if (auto fresh = fresh_copy(urls[i])) {
      known[i] = std::move(fresh);
    } else {
      stale.push_back(i);
    }
  }
  std::vector<std::optional<std::string>> fetched(urls.size());
  util::parallel_for(stale.size(), static_cast<unsigned>(stale.size()), [&](size_t k) {
    size_t i = stale[k];
    net::HttpRequest request;
    request.url = urls[i];
    auto response = m_env.http.send(request);
    if (response.ok() && response->status == 200) {
      fetched[i] = std::move(response->body);
    }
  });
  for (size_t i : stale) {
    if (fetched[i]) {
      // A replayed older Release must not find what was cached for it.
      const std::string suite_url = urls[i].substr(0, urls[i].size() - std::strlen("InRelease"));
      DISTILL_CHECK(debian::check_release_replay(
          m_env.cache.dir() / "release-dates", suite_url, *fetched[i],
          static_cast<std::time_t>(m_env.clock.now()), m_allow_rollback));
      known[i] = Known{crypto::sha256(*fetched[i]).hex(),
                       debian::release_header_field(*fetched[i], "Date")};
      keep(urls[i], *fetched[i], *known[i]);
      m_bodies[urls[i]] = std::move(*fetched[i]);
    }
  }
  LayerKey key("releases");
  for (size_t i = 0; i < urls.size(); ++i) {
    if (!known[i]) {
      return make_error(ErrorKind::NotFound, urls[i] + ": not available");
    }
    key.add(urls[i], known[i]->sha256);
    m_known[urls[i]] = std::move(*known[i]);
  }
  std::string fingerprint = key.hex();
  m_fingerprints[memo_key] = fingerprint;
  return fingerprint;
}

std::map<std::string, std::string> ReleaseSnapshot::dates() const {
  std::map<std::string, std::string> out;
  for (const auto& [url, known] : m_known) {
    out.emplace(url, known.date);
  }
  return out;
}

Result<const std::map<std::string, std::string>*> ReleaseSnapshot::bodies() {
  for (const auto& [url, known] : m_known) {
    if (m_bodies.count(url) != 0) {
      continue;
    }
    auto path = copy_path(url);
    DISTILL_TRY(auto text, util::read_file(path));
    // What was cached under the fingerprint must be made from these bytes.
    if (crypto::sha256(text).hex() != known.sha256) {
      return make_error(ErrorKind::Corrupt, path.string() +
                                                ": changed while this command ran (another distill "
                                                "refreshed it?); run it again");
    }
    m_bodies[url] = std::move(text);
  }
  return &m_bodies;
}

// One file per URL; its mtime is the time (by the environment's clock) it
// was fetched.
std::filesystem::path ReleaseSnapshot::copy_path(const std::string& url) const {
  return m_env.cache.dir() / "releases" / (crypto::sha256(url).hex() + ".InRelease");
}

std::optional<ReleaseSnapshot::Known> ReleaseSnapshot::fresh_copy(const std::string& url) {
  if (m_max_age <= 0) {
    return std::nullopt;
  }
  auto path = copy_path(url);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  int64_t age = m_env.clock.now() - static_cast<int64_t>(st.st_mtime);
  if (age < 0 || age > m_max_age) {
    return std::nullopt;
  }
  const std::string stamp = copy_stamp(st);
  if (auto text = util::read_file(record_path(path)); text.ok()) {
    auto lines = util::split_lines(*text);
    if (lines.size() >= 3 && lines[0] == stamp && lines[1].size() == 64) {
      return Known{lines[1], lines[2]};
    }
  }
  // Written since its record: another process's newer copy, taken as it is,
  // unless it is not even a whole clear-signed file (cut short, emptied):
  // fetched again then, rather than failing every build for its age.
  auto text = util::read_file(path);
  if (!text.ok() || !whole_clear_signed(*text)) {
    return std::nullopt;
  }
  Known known{crypto::sha256(*text).hex(), debian::release_header_field(*text, "Date")};
  write_record(path, stamp, known.sha256, known.date);
  m_bodies[url] = std::move(*text);
  return known;
}

void ReleaseSnapshot::keep(const std::string& url, const std::string& body,
                           const Known& known) const {
  std::error_code ec;
  auto path = copy_path(url);
  std::filesystem::create_directories(path.parent_path(), ec);
  // Best effort, like the resolution cache: a copy not kept only costs time.
  if (util::write_file_atomic(path, body).ok()) {
    struct timespec times[2] = {{m_env.clock.now(), 0}, {m_env.clock.now(), 0}};
    struct stat st {};
    if (::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0 && ::stat(path.c_str(), &st) == 0) {
      write_record(path, copy_stamp(st), known.sha256, known.date);
    }
  }
}

}  // namespace distill::image
