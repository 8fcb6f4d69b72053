// Fetching and verifying a suite's Release file; see release_fetch.hpp.
#include "debian/release_fetch.hpp"

#include <ctime>

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
  if (!options.allow_expired && source.check_valid_until) {
    std::time_t now = options.now != 0 ? options.now : std::time(nullptr);
    DISTILL_CHECK(check_valid_until(release, now, origin));
  }
  return release;
}

}  // namespace distill::debian
