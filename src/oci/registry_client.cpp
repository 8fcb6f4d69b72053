// OCI distribution-spec registry client: push/pull with token and basic auth.
// See registry_client.hpp and docs/formats/oci-registry.md.
#include "oci/registry_client.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <thread>

#include "net/content_cache.hpp"
#include "net/url_reference.hpp"
#include "oci/answer_summary.hpp"
#include "oci/base64.hpp"
#include "oci/blob_store.hpp"
#include "oci/json_util.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"
#include "util/text.hpp"
#include "util/thread_pool.hpp"

namespace distill::oci {

namespace {

std::string url_encode(std::string_view text) {
  static const char* k_hex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += k_hex[u >> 4];
      out += k_hex[u & 15];
    }
  }
  return out;
}

// WWW-Authenticate: <scheme> key="value", key=value, ...
struct Challenge {
  std::string scheme;  // lowercase
  std::map<std::string, std::string> params;
};

Challenge parse_challenge(std::string_view header) {
  Challenge challenge;
  size_t space = header.find(' ');
  challenge.scheme = util::ascii_lower(header.substr(0, space));
  if (space == std::string_view::npos) {
    return challenge;
  }
  std::string_view rest = header.substr(space + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) {
      ++i;
    }
    size_t eq = rest.find('=', i);
    if (eq == std::string_view::npos) {
      break;
    }
    std::string key = util::ascii_lower(rest.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      while (i < rest.size() && rest[i] != '"') {
        if (rest[i] == '\\' && i + 1 < rest.size()) {
          ++i;
        }
        value += rest[i++];
      }
      ++i;
    } else {
      while (i < rest.size() && rest[i] != ',') {
        value += rest[i++];
      }
    }
    challenge.params[key] = value;
  }
  return challenge;
}

bool is_loopback(const std::string& registry) {
  std::string host = registry.substr(0, registry.rfind(':'));
  if (registry.find(':') == std::string::npos) {
    host = registry;
  }
  return host == "localhost" || host.starts_with("127.") || host == "[::1]";
}

std::string api_host(const std::string& registry) {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

Error http_error(const std::string& what, const net::HttpResponse& response) {
  std::string body = answer_summary(response.body);
  ErrorKind kind = response.status == 404                             ? ErrorKind::NotFound
                   : response.status == 401 || response.status == 403 ? ErrorKind::InvalidInput
                                                                      : ErrorKind::Network;
  return make_error(
      kind, what + ": HTTP " + std::to_string(response.status) + (body.empty() ? "" : " " + body));
}

const std::string k_accept =
    std::string(k_media_oci_index) + ", " + std::string(k_media_oci_manifest) + ", " +
    std::string(k_media_docker_manifest_list) + ", " + std::string(k_media_docker_manifest);

// The action a request asks of a repository, in the registry's scope terms.
std::string action_of(const std::string& method) {
  return method == "GET" || method == "HEAD" ? "pull" : "push";
}

// The code of a registry's error body ({"errors":[{"code":"DENIED",...}]}),
// never its free text; "" when there is none.
std::string error_code(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array() ||
      json["errors"].empty() || !json["errors"][0].is_object()) {
    return {};
  }
  const auto& code = json["errors"][0]["code"];
  if (!code.is_string()) {
    return {};
  }
  std::string text = code.get<std::string>().substr(0, 40);
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
  return plain ? text : std::string();
}

std::string prefixed(const std::string& what, const std::string& text) {
  return what.empty() ? text : what + ": " + text;
}

}  // namespace

// The state for one registry repository: base URL, credentials and the
// Authorization header that currently works.
struct RegistryClient::Session {
  net::HttpClient* http = nullptr;
  std::string registry;
  std::string repository;
  std::string base;  // "https://host[:port]"
  std::optional<RegistryCredentials> credentials;
  // Read and replaced under `mutex`: blobs are uploaded from several threads.
  std::string authorization;
  // Whether `authorization` is a token the token endpoint gave for the
  // credentials (or for anonymous): a 401 to it is about access, not them.
  bool token_granted = false;
  std::mutex mutex;
  // Held while a new Authorization is obtained: one token request per expiry,
  // however many transfers were refused meanwhile.
  std::mutex renew_mutex;

  [[nodiscard]] std::string current_authorization() {
    std::lock_guard lock(mutex);
    return authorization;
  }
  void set_authorization(std::string value, bool granted) {
    std::lock_guard lock(mutex);
    authorization = std::move(value);
    token_granted = granted;
  }
  [[nodiscard]] bool has_token() {
    std::lock_guard lock(mutex);
    return token_granted;
  }

  [[nodiscard]] std::string repo_url(const std::string& path) const {
    return base + "/v2/" + repository + path;
  }

  // What a refused request says: who was refused, where the credentials came
  // from, never the password.
  [[nodiscard]] Error refused(const std::string& what) const {
    if (!credentials) {
      return make_error(ErrorKind::InvalidInput,
                        prefixed(what, "registry " + registry +
                                           " needs credentials and none were found (--creds, "
                                           "--authfile, $REGISTRY_AUTH_FILE, containers "
                                           "auth.json, docker config.json)"));
    }
    return make_error(
        ErrorKind::InvalidInput,
        prefixed(what, "registry " + registry + " rejected the credentials for " +
                           credentials->username + " (from " + credentials->origin + ")"));
  }

  // The registry knows who asks and will not let them do `action` here: a
  // 403, or a token without that scope.
  [[nodiscard]] Error denied(const std::string& what, const std::string& action,
                             const std::string& reason) const {
    std::string who = credentials ? credentials->username + " (from " + credentials->origin + ")"
                                  : std::string("anonymous (no credentials found)");
    return make_error(
        ErrorKind::InvalidInput,
        prefixed(what, "registry " + registry + ": access to " + repository + " denied (" + action +
                           ") for " + who + (reason.empty() ? "" : ": " + reason)));
  }

  // A 401 that a new Authorization did not cure. With a token the token
  // endpoint gave (it accepted the credentials), or a challenge saying
  // insufficient_scope, the repository is out of the token's scope; else the
  // credentials themselves are refused.
  [[nodiscard]] Error unauthorized(const net::HttpResponse& response, const std::string& what,
                                   const std::string& method) {
    Challenge challenge = parse_challenge(response.header("WWW-Authenticate"));
    std::string error = challenge.params["error"];
    if (challenge.scheme == "bearer" &&
        (error == "insufficient_scope" || (error.empty() && has_token()))) {
      return denied(what, action_of(method),
                    error.empty() ? "the token grants no " + action_of(method) : error);
    }
    return refused(what);
  }

  [[nodiscard]] Error forbidden(const net::HttpResponse& response, const std::string& what,
                                const std::string& method) const {
    std::string code = error_code(response.body);
    return denied(what, action_of(method), code.empty() ? "HTTP 403" : code);
  }

  Status authenticate(const net::HttpResponse& response, const std::string& what,
                      const std::string& method) {
    Challenge challenge = parse_challenge(response.header("WWW-Authenticate"));
    if (challenge.scheme == "basic") {
      if (!credentials) {
        return refused(what);
      }
      set_authorization(
          "Basic " + base64_encode(credentials->username + ":" + credentials->password), false);
      return {};
    }
    if (challenge.scheme != "bearer") {
      return http_error(what, response);
    }
    std::string realm = challenge.params["realm"];
    if (realm.empty()) {
      return make_error(ErrorKind::Network, prefixed(what, "Bearer challenge without a realm"));
    }
    std::string scope = challenge.params.count("scope") != 0
                            ? challenge.params["scope"]
                            : "repository:" + repository + ":pull,push";
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&") +
                      "service=" + url_encode(challenge.params["service"]) +
                      "&scope=" + url_encode(scope);
    net::HttpRequest request;
    request.url = url;
    if (credentials) {
      request.headers.emplace_back(
          "Authorization",
          "Basic " + base64_encode(credentials->username + ":" + credentials->password));
    }
    DISTILL_TRY(net::HttpResponse token_response, http->send(request));
    if (token_response.status == 401) {
      return refused(what);
    }
    if (token_response.status == 403) {
      return forbidden(token_response, what, method);
    }
    if (token_response.status != 200) {
      return http_error("token from " + realm, token_response);
    }
    DISTILL_TRY(nlohmann::json json, detail::parse_object(token_response.body, realm));
    DISTILL_TRY(std::string token, detail::get_string(json, "token", realm));
    if (token.empty()) {
      DISTILL_TRY(token, detail::get_string(json, "access_token", realm));
    }
    if (token.empty()) {
      return make_error(ErrorKind::Network, realm + ": no token in the answer");
    }
    set_authorization("Bearer " + token, true);
    return {};
  }

  // After a 401 to a request that carried `sent`: a new Authorization, unless
  // another thread replaced `sent` meanwhile (then that one is tried first).
  // true when this call authenticated.
  Result<bool> renew(const net::HttpResponse& response, const std::string& sent,
                     const std::string& what, const std::string& method) {
    std::lock_guard lock(renew_mutex);
    if (current_authorization() != sent) {
      return false;
    }
    DISTILL_CHECK(authenticate(response, what, method));
    return true;
  }

  // Runs `transfer` with the current Authorization; on a 401 authenticates
  // (or takes what another thread got) and sends again. A 401 after this
  // request's own authentication, and any 403, end in one line naming the
  // registry, the repository and the user (unauthorized, forbidden).
  using Transfer = std::function<Result<net::HttpResponse>(const net::HttpRequest&)>;
  Result<net::HttpResponse> authorized(const net::HttpRequest& request, const std::string& what,
                                       const Transfer& transfer) {
    // Three sends at most: another thread's new token may lack this request's
    // scope, and then this one authenticates for itself.
    constexpr int k_attempts = 3;
    bool authenticated = false;
    for (int attempt = 1;; ++attempt) {
      net::HttpRequest actual = request;
      std::string sent = current_authorization();
      if (!sent.empty()) {
        actual.headers.emplace_back("Authorization", sent);
      }
      DISTILL_TRY(net::HttpResponse response, transfer(actual));
      if (response.status == 403) {
        return forbidden(response, what, request.method);
      }
      if (response.status != 401) {
        return response;
      }
      if (authenticated || attempt == k_attempts) {
        return unauthorized(response, what, request.method);
      }
      DISTILL_TRY(authenticated, renew(response, sent, what, request.method));
    }
  }

  // Sends with the current Authorization; on 401 authenticates once and resends.
  Result<net::HttpResponse> send(const net::HttpRequest& request, const std::string& what) {
    return authorized(request, what,
                      [this](const net::HttpRequest& actual) { return http->send(actual); });
  }

  // GET streaming into `sink` as net::HttpClient::download does, with send()'s
  // authentication: a token that expired during a long pull is renewed (once
  // for every transfer it failed) and the GET sent again.
  Result<net::HttpResponse> download(const net::HttpRequest& request,
                                     const std::function<Status(std::string_view)>& sink,
                                     const std::function<void()>& sink_reset,
                                     const net::ProgressFn& progress) {
    net::HttpRequest get = request;
    get.error_status_as_response = true;
    bool first = true;
    DISTILL_TRY(net::HttpResponse response,
                authorized(get, "", [&](const net::HttpRequest& actual) {
                  if (!first && sink_reset) {
                    sink_reset();
                  }
                  first = false;
                  return http->download(actual, sink, sink_reset, progress);
                }));
    if (response.status < 200 || response.status > 299) {
      return make_error(
          response.status == 404 ? ErrorKind::NotFound : ErrorKind::Network,
          request.method + " " + request.url + ": HTTP " + std::to_string(response.status));
    }
    response.body.clear();
    return response;
  }

  // The HTTP client the content cache downloads blobs with: every request
  // authorized as above (errors named by the cache's label for the blob).
  class Downloads final : public net::HttpClient {
   public:
    explicit Downloads(Session& session) : m_session(session) {}
    Result<net::HttpResponse> send(const net::HttpRequest& request) override {
      return m_session.send(request, "");
    }
    Result<net::HttpResponse> download(const net::HttpRequest& request,
                                       const std::function<Status(std::string_view)>& sink,
                                       const std::function<void()>& sink_reset,
                                       const net::ProgressFn& progress) override {
      return m_session.download(request, sink, sink_reset, progress);
    }

   private:
    Session& m_session;
  };
};

RegistryClient::RegistryClient(net::HttpClient& http, RegistryOptions options)
    : m_http(http), m_options(std::move(options)) {}

RegistryClient::~RegistryClient() = default;

Result<RegistryClient::Session*> RegistryClient::session_for(const ImageRef& ref) {
  if (ref.transport != ImageRef::Transport::Registry) {
    return make_error(ErrorKind::InvalidInput, ref.to_string() + ": not a registry reference");
  }
  std::string key = ref.registry + "/" + ref.name;
  auto found = m_sessions.find(key);
  if (found != m_sessions.end()) {
    return found->second.get();
  }
  auto session = std::make_unique<Session>();
  session->http = &m_http;
  session->registry = ref.registry;
  session->repository = ref.name;
  CredentialOptions lookup = m_options.lookup;
  if (m_options.credentials) {
    lookup.explicit_credentials = m_options.credentials;
  }
  if (!m_options.auth_file.empty()) {
    lookup.auth_file = m_options.auth_file;
  }
  DISTILL_TRY(session->credentials, find_credentials(ref.registry, ref.name, lookup));

  // Ping /v2/ to pick the scheme (and learn the auth challenge early).
  std::string host = api_host(ref.registry);
  std::vector<std::string> schemes;
  if (m_options.plain_http) {
    schemes = {"http"};
  } else if (is_loopback(ref.registry)) {
    // Local registries are usually plain http; a TLS one answers http with 400
    // at once, where a TLS attempt at a plain server is retried as transient.
    schemes = {"http", "https"};
  } else if (!m_options.tls_verify) {
    schemes = {"https", "http"};
  } else {
    schemes = {"https"};
  }
  // Each scheme's failure, all of them named when none answers.
  std::vector<Error> failures;
  for (const auto& scheme : schemes) {
    session->base = scheme + "://" + host;
    net::HttpRequest ping;
    ping.url = session->base + "/v2/";
    // A scheme the server does not speak fails the same way every time: one
    // try, then the next scheme; the last one is asked as every request is.
    ping.retry_transient = &scheme == &schemes.back();
    auto response = m_http.send(ping);
    if (!response.ok()) {
      failures.push_back(response.error());
      continue;
    }
    if (response->status == 400 && scheme == "http" && &scheme != &schemes.back()) {
      continue;  // "Client sent an HTTP request to an HTTPS server"
    }
    Session* raw = session.get();
    m_sessions.emplace(key, std::move(session));
    return raw;
  }
  Error failed = failures.back();
  for (size_t i = failures.size() - 1; i-- > 0;) {
    failed.message = failures[i].message + "; " + failed.message;
  }
  if (failed.message.find("wrong version number") != std::string::npos) {
    failed.message += " (a plain-http registry? give --tls-verify=false)";
  }
  return failed.context("registry " + ref.registry);
}

// How one upload try ended: done, or failed, and then whether trying again
// from the HEAD may help.
struct RegistryClient::UploadTry {
  bool done = false;
  bool uploaded = false;  // done by sending the bytes (not found by HEAD)
  bool transient = false;
  std::chrono::milliseconds wait{0};  // the registry's Retry-After
  Error error;
};

Result<RegistryClient::UploadTry> RegistryClient::upload_once(Session& session,
                                                              const std::string& what,
                                                              const Descriptor& descriptor,
                                                              const std::filesystem::path& file) {
  UploadTry outcome;
  auto failed = [&](Error error, bool transient,
                    const net::HttpResponse* response = nullptr) -> UploadTry {
    outcome.error = std::move(error);
    outcome.transient = transient;
    if (response != nullptr) {
      outcome.wait = net::retry_after(*response);
    }
    return outcome;
  };
  // Network errors of HEAD and POST come after the HTTP client's own retries:
  // those end the push. Only the PUT is sent once and repeated from here.
  net::HttpRequest head;
  head.method = "HEAD";
  head.url = session.repo_url("/blobs/" + descriptor.digest.str());
  DISTILL_TRY(net::HttpResponse exists, session.send(head, what));
  if (exists.status == 200) {
    outcome.done = true;
    return outcome;
  }
  net::HttpRequest start;
  start.method = "POST";
  start.url = session.repo_url("/blobs/uploads/");
  DISTILL_TRY(net::HttpResponse started, session.send(start, what));
  if (started.status != 202) {
    // The HTTP client has asked again already, as for the HEAD.
    return failed(http_error(what + ": starting upload", started), false);
  }
  std::string location = started.header("Location");
  if (location.empty()) {
    return failed(make_error(ErrorKind::Network, what + ": upload answer without Location"), false);
  }
  // Relative to the POST's URL (RFC 3986): "/v2/...", or "<uuid>?_state=...".
  location =
      net::resolve_url(started.effective_url.empty() ? start.url : started.effective_url, location);
  net::HttpRequest put;
  put.method = "PUT";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") +
            "digest=" + url_encode(descriptor.digest.str());
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  put.body_file = file;
  put.body_digest = descriptor.digest;  // hashed as sent: never a wrong blob
  put.retry_transient = false;
  auto done = session.send(put, what);
  if (!done.ok()) {
    // A reset or a lost reply: the registry may or may not have the blob.
    return failed(done.error().context(what + ": upload"), done.error().kind == ErrorKind::Network);
  }
  if (done->status != 201) {
    // 404: the upload session is gone. curl sends a request again on a fresh
    // connection when the reused one turns out closed, so a PUT whose answer
    // was lost may have completed the session already: asked again from the
    // HEAD, which then finds the blob.
    return failed(http_error(what + ": upload", *done),
                  net::status_is_transient(done->status) || done->status == 404, &*done);
  }
  outcome.done = true;
  outcome.uploaded = true;
  return outcome;
}

Status RegistryClient::push_blob(const ImageRef& ref, const Descriptor& descriptor,
                                 const std::filesystem::path& file) {
  DISTILL_TRY(Session * session, session_for(ref));
  std::string what = ref.to_string() + ": blob " + descriptor.digest.str();
  int attempts = std::max(1, m_options.upload_attempts);
  std::chrono::milliseconds backoff = m_options.upload_backoff;
  for (int attempt = 1;; ++attempt) {
    DISTILL_TRY(UploadTry outcome, upload_once(*session, what, descriptor, file));
    if (outcome.done) {
      std::lock_guard lock(m_stats_mutex);
      if (outcome.uploaded) {
        ++m_stats.blobs_uploaded;
        m_stats.blob_bytes_uploaded += descriptor.size;
      } else {
        ++m_stats.blobs_present;
      }
      return {};
    }
    if (!outcome.transient) {
      return std::move(outcome.error);
    }
    if (attempt >= attempts) {
      return make_error(outcome.error.kind, outcome.error.message + " (after " +
                                                std::to_string(attempts) + " upload attempts)");
    }
    {
      std::lock_guard lock(m_stats_mutex);
      ++m_stats.upload_restarts;
    }
    std::this_thread::sleep_for(
        std::min(std::max(backoff, outcome.wait), std::chrono::milliseconds(10000)));
    backoff *= 2;
  }
}

Status RegistryClient::push_blobs(
    const ImageRef& ref, const std::vector<std::pair<Descriptor, std::filesystem::path>>& blobs) {
  // Each digest once (platforms share layers).
  std::vector<const std::pair<Descriptor, std::filesystem::path>*> unique;
  std::set<crypto::Digest> seen;
  for (const auto& blob : blobs) {
    if (seen.insert(blob.first.digest).second) {
      unique.push_back(&blob);
    }
  }
  if (unique.empty()) {
    return {};
  }
  // The smallest alone settles the session and its authentication; then the
  // largest first: the longest upload bounds the push, so it must not wait.
  std::stable_sort(unique.begin(), unique.end(),
                   [](const auto* a, const auto* b) { return a->first.size > b->first.size; });
  std::rotate(unique.begin(), unique.end() - 1, unique.end());
  DISTILL_CHECK(push_blob(ref, unique[0]->first, unique[0]->second));
  // The first failure ends the push: no blob starts after it (a registry out
  // of space refuses every one of them, each after its own retries).
  std::mutex mutex;
  std::optional<Error> first_error;
  util::parallel_for(unique.size() - 1, std::max(1U, m_options.upload_jobs), [&](size_t i) {
    {
      std::lock_guard lock(mutex);
      if (first_error) {
        return;
      }
    }
    Status pushed = push_blob(ref, unique[i + 1]->first, unique[i + 1]->second);
    std::lock_guard lock(mutex);
    if (!pushed.ok() && !first_error) {
      first_error = std::move(pushed).error();
    }
  });
  if (first_error) {
    return std::move(*first_error);
  }
  return {};
}

Status RegistryClient::push_blob_data(const ImageRef& ref, const Descriptor& descriptor,
                                      std::string_view data) {
  DISTILL_TRY(util::TempDir dir, util::TempDir::create("distill-push-"));
  std::filesystem::path file = dir.path() / "blob";
  DISTILL_CHECK(util::write_file_atomic(file, data));
  return push_blob(ref, descriptor, file);
}

Status RegistryClient::push_manifest(const ImageRef& ref, const std::string& reference,
                                     const std::string& media_type, const std::string& json) {
  DISTILL_TRY(net::HttpResponse done, put_manifest(ref, reference, media_type, json));
  (void)done;
  return {};
}

Result<net::HttpResponse> RegistryClient::put_manifest(const ImageRef& ref,
                                                       const std::string& reference,
                                                       const std::string& media_type,
                                                       const std::string& json) {
  DISTILL_TRY(Session * session, session_for(ref));
  std::string what = ref.to_string() + ": manifest " + reference;
  net::HttpRequest put;
  put.method = "PUT";
  put.url = session->repo_url("/manifests/" + reference);
  put.headers.emplace_back("Content-Type", media_type);
  put.body = json;
  DISTILL_TRY(net::HttpResponse done, session->send(put, what));
  if (done.status != 201 && done.status != 200) {
    return http_error(what, done);
  }
  return done;
}

Result<std::optional<RegistryClient::FetchedManifest>> RegistryClient::get_manifest(
    const ImageRef& ref, const std::string& reference) {
  DISTILL_TRY(Session * session, session_for(ref));
  std::string what = ref.to_string() + ": manifest " + reference;
  net::HttpRequest get;
  get.url = session->repo_url("/manifests/" + reference);
  get.headers.emplace_back("Accept", k_accept);
  DISTILL_TRY(net::HttpResponse response, session->send(get, what));
  if (response.status == 404) {
    return std::optional<FetchedManifest>();
  }
  if (response.status != 200) {
    return http_error(what, response);
  }
  if (reference.starts_with("sha256:") && crypto::sha256(response.body).str() != reference) {
    return make_error(ErrorKind::Corrupt, what + ": the registry sent other bytes");
  }
  FetchedManifest fetched;
  DISTILL_TRY(fetched.media_type, sniff_media_type(response.body, what));
  if (fetched.media_type.empty()) {
    fetched.media_type = response.header("Content-Type");
  }
  fetched.json = std::move(response.body);
  return std::optional<FetchedManifest>(std::move(fetched));
}

Result<std::optional<Index>> RegistryClient::get_referrers(const ImageRef& ref,
                                                           const crypto::Digest& subject) {
  DISTILL_TRY(Session * session, session_for(ref));
  std::string what = ref.to_string() + ": referrers of " + subject.str();
  net::HttpRequest get;
  get.url = session->repo_url("/referrers/" + subject.str());
  get.headers.emplace_back("Accept", std::string(k_media_oci_index));
  DISTILL_TRY(net::HttpResponse response, session->send(get, what));
  // 404 is what the spec prescribes for "no referrers API"; some registries
  // answer an unknown route with 405 or 501 instead.
  if (response.status == 404 || response.status == 405 || response.status == 501) {
    return std::optional<Index>();
  }
  if (response.status != 200) {
    return http_error(what, response);
  }
  DISTILL_TRY(Index index, Index::parse(response.body, what));
  return std::optional<Index>(std::move(index));
}

Result<Index> RegistryClient::list_referrers(const ImageRef& ref, const crypto::Digest& subject) {
  DISTILL_TRY(auto listed, get_referrers(ref, subject));
  if (listed) {
    return std::move(*listed);
  }
  std::string tag = referrers_tag(subject);
  DISTILL_TRY(auto fetched, get_manifest(ref, tag));
  if (!fetched) {
    return Index{};
  }
  std::string what = ref.to_string() + ": referrers tag " + tag;
  if (!is_index_media_type(fetched->media_type)) {
    return make_error(ErrorKind::Corrupt,
                      what + ": not an image index (\"" + fetched->media_type + "\")");
  }
  return Index::parse(fetched->json, what);
}

Result<RegistryClient::ReferrersListing> RegistryClient::attach(const ImageRef& ref,
                                                                const Referrer& referrer) {
  DISTILL_CHECK(push_blob_data(ref, referrer.config.descriptor, referrer.config.data));
  for (const auto& layer : referrer.layers) {
    DISTILL_CHECK(push_blob_data(ref, layer.descriptor, layer.data));
  }
  DISTILL_TRY(net::HttpResponse pushed,
              put_manifest(ref, referrer.manifest.digest.str(), referrer.manifest.media_type,
                           referrer.manifest_json));
  // A registry with the referrers API says so with OCI-Subject (spec.md, "Pushing
  // Manifests with Subject"); without it, ask the API itself before falling back.
  if (pushed.header("OCI-Subject") == referrer.subject.digest.str()) {
    return ReferrersListing::Api;
  }
  DISTILL_TRY(auto listed, get_referrers(ref, referrer.subject.digest));
  if (listed) {
    return ReferrersListing::Api;
  }
  std::string tag = referrers_tag(referrer.subject.digest);
  std::string what = ref.to_string() + ": referrers tag " + tag;
  Index index;
  DISTILL_TRY(auto fetched, get_manifest(ref, tag));
  if (fetched) {
    if (!is_index_media_type(fetched->media_type)) {
      return make_error(ErrorKind::Corrupt,
                        what + ": not an image index (\"" + fetched->media_type + "\")");
    }
    DISTILL_TRY(index, Index::parse(fetched->json, what));
  }
  index.media_type = std::string(k_media_oci_index);
  if (add_referrer(index, referrer.manifest)) {
    DISTILL_CHECK(push_manifest(ref, tag, index.media_type, index.to_json()));
  }
  return ReferrersListing::FallbackTag;
}

namespace {

// A destination by digest names what is pushed: the image whose top-level
// document has that digest. Any other is refused before a blob is uploaded, as
// skopeo refuses it, rather than pushed under its own digest while the one
// asked for stays missing.
Status check_pushed_digest(const ImageRef& ref, const crypto::Digest& top) {
  DISTILL_CHECK(check_destination(ref));
  if (!ref.digest.empty() && ref.digest != top.str()) {
    return make_error(ErrorKind::InvalidInput, ref.to_string() + ": the image's digest is " +
                                                   top.str() +
                                                   ", not the one the reference names; nothing "
                                                   "pushed");
  }
  return {};
}

}  // namespace

Result<crypto::Digest> RegistryClient::push(const Image& image, const ImageRef& ref) {
  if (image.index_json.empty()) {
    return make_error(ErrorKind::Internal, "push: image not finalized");
  }
  DISTILL_CHECK(check_pushed_digest(ref, image.index_descriptor.digest));
  std::vector<std::pair<Descriptor, std::filesystem::path>> layers;
  for (const auto& entry : image.manifests) {
    for (const auto& layer : entry.layers) {
      layers.emplace_back(layer.descriptor, layer.file);
    }
  }
  DISTILL_CHECK(push_blobs(ref, layers));
  for (const auto& entry : image.manifests) {
    DISTILL_CHECK(push_blob_data(ref, entry.config_descriptor, entry.config_json));
    DISTILL_CHECK(push_manifest(ref, entry.manifest_descriptor.digest.str(),
                                entry.manifest_descriptor.media_type, entry.manifest_json));
  }
  std::string reference = ref.tag.empty() ? image.index_descriptor.digest.str() : ref.tag;
  DISTILL_CHECK(push_manifest(ref, reference, image.index_descriptor.media_type, image.index_json));
  return image.index_descriptor.digest;
}

Result<crypto::Digest> RegistryClient::push(const LoadedImage& image, const ImageRef& ref) {
  if (image.manifests.empty()) {
    return make_error(ErrorKind::InvalidInput, ref.to_string() + ": nothing to push");
  }
  bool whole_index = image.index && !image.index_json.empty() && image.index_descriptor &&
                     image.index->manifests.size() == image.manifests.size();
  if (!whole_index && image.manifests.size() != 1) {
    return make_error(ErrorKind::Unsupported,
                      ref.to_string() + ": the source index has manifests that were not loaded");
  }
  DISTILL_CHECK(check_pushed_digest(ref, whole_index ? image.index_descriptor->digest
                                                     : image.manifests.front().descriptor.digest));
  std::vector<std::pair<Descriptor, std::filesystem::path>> layers;
  for (const auto& entry : image.manifests) {
    for (size_t i = 0; i < entry.manifest.layers.size() && i < entry.layer_files.size(); ++i) {
      layers.emplace_back(entry.manifest.layers[i], entry.layer_files[i]);
    }
  }
  DISTILL_CHECK(push_blobs(ref, layers));
  for (const auto& entry : image.manifests) {
    DISTILL_CHECK(push_blob_data(ref, entry.manifest.config, entry.config_json));
    DISTILL_CHECK(push_manifest(ref, entry.descriptor.digest.str(), entry.manifest.media_type,
                                entry.manifest_json));
  }
  if (whole_index) {
    std::string reference = ref.tag.empty() ? image.index_descriptor->digest.str() : ref.tag;
    DISTILL_CHECK(push_manifest(ref, reference, image.index->media_type, image.index_json));
    return image.index_descriptor->digest;
  }
  const LoadedManifest& only = image.manifests.front();
  if (!ref.tag.empty()) {
    DISTILL_CHECK(push_manifest(ref, ref.tag, only.manifest.media_type, only.manifest_json));
  }
  return only.descriptor.digest;
}

namespace {

bool platform_matches(const Platform& have, const Platform& want) {
  return have.architecture == want.architecture &&
         (have.os.empty() || want.os.empty() || have.os == want.os) &&
         (have.variant.empty() || want.variant.empty() || have.variant == want.variant);
}

}  // namespace

namespace {

using ManifestLookup =
    std::function<Result<std::optional<RegistryClient::FetchedManifest>>(const std::string&)>;

// The manifests of an image and the blobs they need: the index (if any) and the
// image manifests `platform` selects, looked up through `lookup`. nullopt when
// `lookup` lacks one of them.
struct PullPlan {
  LoadedImage image;
  std::vector<std::pair<crypto::Digest, std::string>> documents;  // digest, bytes
};
Result<std::optional<PullPlan>> plan_pull(const ImageRef& ref, const PullOptions& options,
                                          const ManifestLookup& lookup) {
  std::string origin = ref.to_string();
  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  DISTILL_TRY(auto top, lookup(reference));
  if (!top) {
    return std::optional<PullPlan>();
  }
  PullPlan plan;
  Descriptor top_descriptor = describe(top->json, top->media_type);
  plan.documents.emplace_back(top_descriptor.digest, top->json);
  std::vector<std::pair<Descriptor, std::string>> chosen;
  if (is_index_media_type(top->media_type)) {
    DISTILL_TRY(Index index, Index::parse(top->json, origin));
    std::string available;
    for (const auto& child : index.manifests) {
      if (!is_manifest_media_type(child.media_type) ||
          (child.platform && child.platform->os == "unknown")) {
        continue;  // artifacts, buildkit attestations
      }
      Platform have = child.platform.value_or(Platform{});
      available += (available.empty() ? "" : ", ") + have.str();
      if (options.platform && child.platform && !platform_matches(have, *options.platform)) {
        continue;
      }
      DISTILL_TRY(auto fetched, lookup(child.digest.str()));
      if (!fetched) {
        return std::optional<PullPlan>();
      }
      if (crypto::sha256(fetched->json) != child.digest) {
        return make_error(ErrorKind::Corrupt,
                          origin + ": manifest " + child.digest.str() + " has other bytes");
      }
      plan.documents.emplace_back(child.digest, fetched->json);
      chosen.emplace_back(child, std::move(fetched->json));
    }
    if (chosen.empty()) {
      return make_error(ErrorKind::NotFound,
                        origin + ": no image manifest" +
                            (options.platform ? " for " + options.platform->str() : "") +
                            " (it has: " + (available.empty() ? "none" : available) + ")");
    }
    plan.image.index = std::move(index);
    plan.image.index_descriptor = top_descriptor;
    plan.image.index_json = top->json;
  } else if (is_manifest_media_type(top->media_type)) {
    chosen.emplace_back(top_descriptor, std::move(top->json));
  } else {
    return make_error(ErrorKind::Unsupported,
                      origin + ": unsupported manifest type \"" + top->media_type + "\"");
  }
  for (auto& [descriptor, json] : chosen) {
    LoadedManifest loaded;
    loaded.descriptor = descriptor;
    loaded.descriptor.annotations.clear();
    loaded.manifest_json = std::move(json);
    DISTILL_TRY(loaded.manifest, Manifest::parse(loaded.manifest_json,
                                                 origin + ": manifest " + descriptor.digest.str()));
    plan.image.manifests.push_back(std::move(loaded));
  }
  return std::optional<PullPlan>(std::move(plan));
}

// Fills in configs and layer paths once every blob is in the cache. The
// layers are the cache's files: the image holds the cache open (against a
// prune) for as long as it lives.
Status finish_pull(const ImageRef& ref, const net::ContentCache& cache, LoadedImage& image) {
  std::string origin = ref.to_string();
  for (auto& loaded : image.manifests) {
    std::string where = origin + ": config " + loaded.manifest.config.digest.str();
    DISTILL_TRY(loaded.config_json, util::read_file(cache.path_for(loaded.manifest.config.digest)));
    DISTILL_CHECK(read_config(loaded, origin));
    loaded.layer_files.clear();
    for (const auto& layer : loaded.manifest.layers) {
      loaded.layer_files.push_back(cache.path_for(layer.digest));
    }
    if (loaded.descriptor.platform) {
      loaded.platform = *loaded.descriptor.platform;
    } else {
      loaded.platform =
          Platform{loaded.config.os, loaded.config.architecture, loaded.config.variant};
    }
  }
  image.keepalive = std::make_shared<net::ContentCache>(cache);
  return {};
}

std::vector<net::FetchItem> blob_items(const ImageRef& ref, const LoadedImage& image) {
  std::vector<net::FetchItem> items;
  for (const auto& loaded : image.manifests) {
    std::vector<const Descriptor*> blobs = {&loaded.manifest.config};
    for (const auto& layer : loaded.manifest.layers) {
      blobs.push_back(&layer);
    }
    for (const Descriptor* blob : blobs) {
      net::FetchItem item;
      item.sha256 = blob->digest;
      item.size = blob->size;
      item.label = ref.to_string() + ": blob " + blob->digest.str();
      items.push_back(std::move(item));
    }
  }
  return items;
}

// Where the digest a tag last resolved to is kept: <cache>/refs/<sha256 of the
// reference text>; its mtime says when.
std::filesystem::path tag_record(const std::filesystem::path& cache_dir, const ImageRef& ref) {
  return cache_dir / "refs" / crypto::sha256(ref.registry + "/" + ref.name + ":" + ref.tag).hex();
}

}  // namespace

Result<LoadedImage> RegistryClient::pull(const ImageRef& ref, const PullOptions& options) {
  std::filesystem::path cache_dir =
      options.cache_dir.empty() ? net::default_cache_dir() : options.cache_dir;
  DISTILL_TRY(net::ContentCache cache, net::ContentCache::open(cache_dir));

  // From the cache alone: a digest reference, or a tag resolved less than
  // tag_fresh_for ago, whose manifests and blobs are all there.
  std::string top_digest = ref.digest;
  if (top_digest.empty() && options.tag_fresh_for.count() > 0) {
    std::error_code ec;
    auto written = std::filesystem::last_write_time(tag_record(cache_dir, ref), ec);
    if (!ec && std::filesystem::file_time_type::clock::now() - written < options.tag_fresh_for) {
      auto text = util::read_file(tag_record(cache_dir, ref));
      if (text.ok()) {
        top_digest = *text;
      }
    }
  }
  if (!top_digest.empty()) {
    ImageRef pinned = ref;
    pinned.digest = top_digest;
    ManifestLookup from_cache =
        [&](const std::string& reference) -> Result<std::optional<FetchedManifest>> {
      auto digest = crypto::Digest::parse(reference);
      if (!digest.ok() || !cache.contains(*digest)) {
        return std::optional<FetchedManifest>();
      }
      DISTILL_TRY(std::string json, util::read_file(cache.path_for(*digest)));
      DISTILL_TRY(std::string media_type, sniff_media_type(json, ref.to_string()));
      if (media_type.empty()) {
        return std::optional<FetchedManifest>();
      }
      return std::optional<FetchedManifest>(FetchedManifest{media_type, std::move(json)});
    };
    auto cached = plan_pull(pinned, options, from_cache);
    if (cached.ok() && *cached) {
      auto items = blob_items(ref, (*cached)->image);
      bool complete = std::all_of(items.begin(), items.end(), [&](const net::FetchItem& item) {
        return cache.contains(item.sha256);
      });
      if (complete) {
        LoadedImage image = std::move((*cached)->image);
        DISTILL_CHECK(finish_pull(ref, cache, image));
        return image;
      }
    }
  }

  ManifestLookup from_registry =
      [&](const std::string& reference) -> Result<std::optional<FetchedManifest>> {
    DISTILL_TRY(auto fetched, get_manifest(ref, reference));
    if (!fetched) {
      return make_error(ErrorKind::NotFound, ref.to_string() + ": no manifest " + reference);
    }
    return fetched;
  };
  DISTILL_TRY(auto planned, plan_pull(ref, options, from_registry));
  LoadedImage image = std::move(planned->image);

  // Every blob of the chosen manifests, fetched at once.
  DISTILL_CHECK(fetch_blobs(ref, cache, blob_items(ref, image), options.jobs));
  DISTILL_CHECK(finish_pull(ref, cache, image));
  // The manifests too, so a digest (or a fresh tag) needs no request next time.
  for (const auto& [digest, json] : planned->documents) {
    DISTILL_CHECK(cache.insert(digest, json));
  }
  if (ref.digest.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cache_dir / "refs", ec);
    DISTILL_CHECK(util::write_file_atomic(tag_record(cache_dir, ref),
                                          planned->documents.front().first.str()));
  }
  return image;
}

Status RegistryClient::fetch_blobs(const ImageRef& ref, net::ContentCache& cache,
                                   std::vector<net::FetchItem> items, unsigned jobs) {
  std::erase_if(items, [&](const net::FetchItem& item) { return cache.contains(item.sha256); });
  if (items.empty()) {
    return {};
  }
  DISTILL_TRY(Session * session, session_for(ref));
  for (auto& item : items) {
    item.urls = {session->repo_url("/blobs/" + item.sha256.str())};
    if (item.label.empty()) {
      item.label = ref.to_string() + ": blob " + item.sha256.str();
    }
  }
  // A HEAD settles authentication (a token for this repository) first, so the
  // parallel GETs carry a working Authorization; one that expires meanwhile is
  // renewed once for all of them.
  net::HttpRequest head;
  head.method = "HEAD";
  head.url = items.front().urls.front();
  DISTILL_TRY(net::HttpResponse probe, session->send(head, ref.to_string()));
  (void)probe;
  Session::Downloads http(*session);
  return cache.fetch_all(http, items, std::max(1U, jobs), {});
}

}  // namespace distill::oci
