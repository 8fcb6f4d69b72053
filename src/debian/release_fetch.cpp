// Fetching and verifying a suite's Release file; see release_fetch.hpp.
#include "debian/release_fetch.hpp"

#include <ctime>

#include "debian/release_history.hpp"

namespace distill::debian {

std::string suite_base_url(const AptSource& source, const std::string& suite) {
  std::string base = net::url_join(source.url, "dists/" + suite + "/");
  if (base.back() != '/') {
    base += '/';
  }
  return base;
}

Result<std::string> http_get(net::HttpClient& client, const std::string& url, long& status) {
  net::HttpRequest request;
  request.url = url;
  status = 0;
  DISTILL_TRY(auto response, client.send(request));
  status = response.status;
  if (status == 200) {
    return std::move(response.body);
  }
  return make_error(status == 404 ? ErrorKind::NotFound : ErrorKind::Network,
                    "GET " + url + ": HTTP " + std::to_string(status));
}

Status check_release_suite(const ReleaseFile& release, const std::string& suite,
                           const std::string& origin) {
  if (release.suite.empty() && release.codename.empty()) {
    return {};
  }
  if (suite == release.suite || suite == release.codename) {
    return {};
  }
  // "bookworm/updates" is served as Suite "oldstable-updates", Codename
  // "bookworm-updates" (apt accepts the '/' spelling the same way).
  std::string dashed = suite;
  for (char& c : dashed) {
    if (c == '/') {
      c = '-';
    }
  }
  if (dashed == release.suite || dashed == release.codename) {
    return {};
  }
  return make_error(ErrorKind::Corrupt,
                    origin + ": a Release for '" +
                        (release.codename.empty() ? release.suite : release.codename) +
                        "' (Suite: " + release.suite + ", Codename: " + release.codename +
                        ") served for suite '" + suite + "'");
}

Result<ReleaseFile> fetch_verified_release(net::HttpClient& client, const AptSource& source,
                                           const std::string& base,
                                           const RepositoryOptions& options) {
  const std::string& keyring =
      source.keyring.empty() ? std::string(k_default_keyring) : source.keyring;
  std::string in_url = base + "InRelease";
  long status = 0;
  auto inrelease = [&]() -> Result<std::string> {
    if (options.fetched_inrelease != nullptr) {
      auto it = options.fetched_inrelease->find(in_url);
      if (it != options.fetched_inrelease->end()) {
        return it->second;
      }
    }
    return http_get(client, in_url, status);
  }();
  std::string payload;
  std::string origin = in_url;
  if (inrelease.ok()) {
    DISTILL_TRY(payload, verify_clearsigned(*inrelease, keyring, in_url));
  } else if (status == 404 || status == 403 || status == 410) {
    std::string url = base + "Release";
    origin = url;
    DISTILL_TRY(auto release, http_get(client, url, status));
    DISTILL_TRY(auto signature, http_get(client, url + ".gpg", status));
    DISTILL_CHECK(verify_detached(release, signature, keyring, url));
    payload = std::move(release);
  } else {
    return std::move(inrelease).error();
  }
  DISTILL_TRY(auto release, parse_release(payload, origin));
  // The suite asked for, from ".../dists/<suite>/" (a flat repository has none).
  size_t dists = base.rfind("/dists/");
  if (dists != std::string::npos) {
    std::string suite = base.substr(dists + 7, base.size() - 1 - (dists + 7));
    DISTILL_CHECK(check_release_suite(release, suite, origin));
  }
  std::time_t now = options.now != 0 ? options.now : std::time(nullptr);
  ReleaseHistory history(options.release_history);
  DISTILL_CHECK(history.check(base, release, now, options.allow_release_rollback, origin));
  history.record(base, release);
  if (!options.allow_expired && source.check_valid_until) {
    DISTILL_CHECK(check_valid_until(release, now, origin));
  }
  return release;
}

}  // namespace distill::debian
