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
  std::vector<std::optional<std::string>> bodies(urls.size());
  std::vector<size_t> stale;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (auto kept = fresh_copy(urls[i])) {
      bodies[i] = std::move(kept);
    } else {
      stale.push_back(i);
    }
  }
  util::parallel_for(stale.size(), static_cast<unsigned>(stale.size()), [&](size_t k) {
    size_t i = stale[k];
    net::HttpRequest request;
    request.url = urls[i];
    auto response = m_env.http.send(request);
    if (response.ok() && response->status == 200) {
      bodies[i] = std::move(response->body);
    }
  });
  for (size_t i : stale) {
    if (bodies[i]) {
      // A replayed older Release must not find what was cached for it.
      const std::string suite_url = urls[i].substr(0, urls[i].size() - std::strlen("InRelease"));
      DISTILL_CHECK(debian::check_release_replay(
          m_env.cache.dir() / "release-dates", suite_url, *bodies[i],
          static_cast<std::time_t>(m_env.clock.now()), m_allow_rollback));
      keep(urls[i], *bodies[i]);
    }
  }
  LayerKey key("releases");
  for (size_t i = 0; i < urls.size(); ++i) {
    if (!bodies[i]) {
      return make_error(ErrorKind::NotFound, urls[i] + ": not available");
    }
    key.add(urls[i], *bodies[i]);
    m_fetched[urls[i]] = std::move(*bodies[i]);
  }
  std::string fingerprint = key.hex();
  m_fingerprints[memo_key] = fingerprint;
  return fingerprint;
}

// One file per URL; its mtime is the time (by the environment's clock) it
// was fetched.
std::filesystem::path ReleaseSnapshot::copy_path(const std::string& url) const {
  return m_env.cache.dir() / "releases" / (crypto::sha256(url).hex() + ".InRelease");
}

std::optional<std::string> ReleaseSnapshot::fresh_copy(const std::string& url) const {
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
  auto text = util::read_file(path);
  return text.ok() ? std::optional<std::string>(std::move(*text)) : std::nullopt;
}

void ReleaseSnapshot::keep(const std::string& url, const std::string& body) const {
  std::error_code ec;
  auto path = copy_path(url);
  std::filesystem::create_directories(path.parent_path(), ec);
  // Best effort, like the resolution cache: a copy not kept only costs time.
  if (util::write_file_atomic(path, body).ok()) {
    struct timespec times[2] = {{m_env.clock.now(), 0}, {m_env.clock.now(), 0}};
    (void)::utimensat(AT_FDCWD, path.c_str(), times, 0);
  }
}

}  // namespace distill::image
