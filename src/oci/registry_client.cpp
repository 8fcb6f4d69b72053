// OCI distribution-spec registry client: push/pull with token and basic auth.
// See registry_client.hpp and docs/formats/oci-registry.md.
#include "oci/registry_client.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <system_error>

#include "oci/blob_store.hpp"
#include "oci/json_util.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {

namespace {

constexpr std::string_view k_base64_chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view data) {
  std::string out;
  size_t i = 0;
  while (i + 2 < data.size()) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    out += k_base64_chars[(n >> 18) & 63];
    out += k_base64_chars[(n >> 12) & 63];
    out += k_base64_chars[(n >> 6) & 63];
    out += k_base64_chars[n & 63];
    i += 3;
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(data[i])) << 16;
    if (rest == 2) {
      n |= static_cast<uint32_t>(static_cast<uint8_t>(data[i + 1])) << 8;
    }
    out += k_base64_chars[(n >> 18) & 63];
    out += k_base64_chars[(n >> 12) & 63];
    out += rest == 2 ? k_base64_chars[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r') {
      continue;
    }
    size_t value = k_base64_chars.find(c);
    if (value == std::string_view::npos) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

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
  std::string_view scheme = header.substr(0, space);
  for (char c : scheme) {
    challenge.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
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
    std::string key;
    for (char c : rest.substr(i, eq - i)) {
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
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
  std::string body = response.body.substr(0, 300);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.pop_back();
  }
  ErrorKind kind = response.status == 404                             ? ErrorKind::NotFound
                   : response.status == 401 || response.status == 403 ? ErrorKind::InvalidInput
                                                                      : ErrorKind::Network;
  return make_error(
      kind, what + ": HTTP " + std::to_string(response.status) + (body.empty() ? "" : " " + body));
}

std::optional<std::filesystem::path> env_path(const char* name, const char* suffix = "") {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::filesystem::path(value) / suffix;
}

const std::string k_accept =
    std::string(k_media_oci_index) + ", " + std::string(k_media_oci_manifest) + ", " +
    std::string(k_media_docker_manifest_list) + ", " + std::string(k_media_docker_manifest);

}  // namespace

Result<RegistryCredentials> parse_credentials(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error(ErrorKind::InvalidInput, "credentials must be USER:PASSWORD");
  }
  return RegistryCredentials{std::string(text.substr(0, colon)),
                             std::string(text.substr(colon + 1))};
}

Result<std::optional<RegistryCredentials>> credentials_from_auth_json(std::string_view json,
                                                                      const std::string& registry,
                                                                      const std::string& origin) {
  DISTILL_TRY(nlohmann::json document, detail::parse_object(json, origin));
  auto auths = document.find("auths");
  if (auths == document.end() || !auths->is_object()) {
    return std::optional<RegistryCredentials>();
  }
  std::vector<std::string> keys = {registry, "https://" + registry, "http://" + registry,
                                   "https://" + registry + "/v1/", "https://" + registry + "/v2/"};
  if (registry == "docker.io") {
    keys.push_back("https://index.docker.io/v1/");
    keys.push_back("index.docker.io");
    keys.push_back("registry-1.docker.io");
  }
  for (const auto& key : keys) {
    auto entry = auths->find(key);
    if (entry == auths->end() || !entry->is_object()) {
      continue;
    }
    DISTILL_TRY(std::string auth, detail::get_string(*entry, "auth", origin));
    if (!auth.empty()) {
      auto decoded = base64_decode(auth);
      if (!decoded) {
        return detail::corrupt(origin, "auths." + key + ".auth is not base64");
      }
      DISTILL_TRY(RegistryCredentials credentials, parse_credentials(*decoded));
      return std::optional<RegistryCredentials>(credentials);
    }
    DISTILL_TRY(std::string user, detail::get_string(*entry, "username", origin));
    DISTILL_TRY(std::string password, detail::get_string(*entry, "password", origin));
    if (!user.empty()) {
      return std::optional<RegistryCredentials>(RegistryCredentials{user, password});
    }
  }
  return std::optional<RegistryCredentials>();
}

// The state for one registry repository: base URL, credentials and the
// Authorization header that currently works.
struct RegistryClient::Session {
  net::HttpClient* http = nullptr;
  std::string registry;
  std::string repository;
  std::string base;  // "https://host[:port]"
  std::optional<RegistryCredentials> credentials;
  std::string authorization;

  [[nodiscard]] std::string repo_url(const std::string& path) const {
    return base + "/v2/" + repository + path;
  }

  Status authenticate(const net::HttpResponse& response, const std::string& what) {
    Challenge challenge = parse_challenge(response.header("WWW-Authenticate"));
    if (challenge.scheme == "basic") {
      if (!credentials) {
        return make_error(ErrorKind::InvalidInput,
                          what + ": registry " + registry + " needs credentials");
      }
      authorization = "Basic " + base64_encode(credentials->username + ":" + credentials->password);
      return {};
    }
    if (challenge.scheme != "bearer") {
      return http_error(what, response);
    }
    std::string realm = challenge.params["realm"];
    if (realm.empty()) {
      return make_error(ErrorKind::Network, what + ": Bearer challenge without a realm");
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
    authorization = "Bearer " + token;
    return {};
  }

  // Sends with the current Authorization; on 401 authenticates once and resends.
  Result<net::HttpResponse> send(net::HttpRequest request, const std::string& what) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      net::HttpRequest actual = request;
      if (!authorization.empty()) {
        actual.headers.emplace_back("Authorization", authorization);
      }
      DISTILL_TRY(net::HttpResponse response, http->send(actual));
      if (response.status != 401 || attempt == 1) {
        return response;
      }
      DISTILL_CHECK(authenticate(response, what));
    }
    return make_error(ErrorKind::Internal, what + ": unreachable");
  }
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
  session->credentials = m_options.credentials;
  if (!session->credentials) {
    std::vector<std::filesystem::path> files;
    if (!m_options.auth_file.empty()) {
      files.push_back(m_options.auth_file);
    }
    for (auto path :
         {env_path("REGISTRY_AUTH_FILE"), env_path("XDG_RUNTIME_DIR", "containers/auth.json"),
          env_path("DOCKER_CONFIG", "config.json"), env_path("HOME", ".docker/config.json")}) {
      if (path) {
        files.push_back(*path);
      }
    }
    for (const auto& file : files) {
      auto text = util::read_file(file);
      if (!text.ok()) {
        if (file == m_options.auth_file) {
          return text.error();
        }
        continue;
      }
      DISTILL_TRY(auto credentials, credentials_from_auth_json(*text, ref.registry, file.string()));
      if (credentials) {
        session->credentials = credentials;
        break;
      }
    }
  }

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
  Error last = make_error(ErrorKind::Network, ref.registry + ": unreachable");
  for (const auto& scheme : schemes) {
    session->base = scheme + "://" + host;
    net::HttpRequest ping;
    ping.url = session->base + "/v2/";
    auto response = m_http.send(ping);
    if (!response.ok()) {
      last = response.error();
      continue;
    }
    if (response->status == 400 && scheme == "http" && &scheme != &schemes.back()) {
      continue;  // "Client sent an HTTP request to an HTTPS server"
    }
    Session* raw = session.get();
    m_sessions.emplace(key, std::move(session));
    return raw;
  }
  return last.context("registry " + ref.registry);
}

Status RegistryClient::push_blob(const ImageRef& ref, const Descriptor& descriptor,
                                 const std::filesystem::path& file) {
  DISTILL_TRY(Session * session, session_for(ref));
  std::string what = ref.to_string() + ": blob " + descriptor.digest.str();
  net::HttpRequest head;
  head.method = "HEAD";
  head.url = session->repo_url("/blobs/" + descriptor.digest.str());
  DISTILL_TRY(net::HttpResponse exists, session->send(head, what));
  if (exists.status == 200) {
    return {};
  }
  net::HttpRequest start;
  start.method = "POST";
  start.url = session->repo_url("/blobs/uploads/");
  DISTILL_TRY(net::HttpResponse started, session->send(start, what));
  if (started.status != 202) {
    return http_error(what + ": starting upload", started);
  }
  std::string location = started.header("Location");
  if (location.empty()) {
    return make_error(ErrorKind::Network, what + ": upload answer without Location");
  }
  if (location.starts_with("/")) {
    location = session->base + location;
  }
  net::HttpRequest put;
  put.method = "PUT";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") +
            "digest=" + url_encode(descriptor.digest.str());
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  put.body_file = file;
  DISTILL_TRY(net::HttpResponse done, session->send(put, what));
  if (done.status != 201) {
    return http_error(what + ": upload", done);
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
  DISTILL_CHECK(push_blob_data(ref, referrer.config, k_empty_json));
  DISTILL_CHECK(push_blob_data(ref, referrer.layer, referrer.data));
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

Result<crypto::Digest> RegistryClient::push(const Image& image, const ImageRef& ref) {
  if (image.index_json.empty()) {
    return make_error(ErrorKind::Internal, "push: image not finalized");
  }
  for (const auto& entry : image.manifests) {
    for (const auto& layer : entry.layers) {
      DISTILL_CHECK(push_blob(ref, layer.descriptor, layer.file));
    }
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
  for (const auto& entry : image.manifests) {
    for (size_t i = 0; i < entry.manifest.layers.size() && i < entry.layer_files.size(); ++i) {
      DISTILL_CHECK(push_blob(ref, entry.manifest.layers[i], entry.layer_files[i]));
    }
    DISTILL_CHECK(push_blob_data(ref, entry.manifest.config, entry.config_json));
    DISTILL_CHECK(push_manifest(ref, entry.descriptor.digest.str(), entry.manifest.media_type,
                                entry.manifest_json));
  }
  bool whole_index = image.index && !image.index_json.empty() && image.index_descriptor &&
                     image.index->manifests.size() == image.manifests.size();
  if (whole_index) {
    std::string reference = ref.tag.empty() ? image.index_descriptor->digest.str() : ref.tag;
    DISTILL_CHECK(push_manifest(ref, reference, image.index->media_type, image.index_json));
    return image.index_descriptor->digest;
  }
  if (image.manifests.size() != 1) {
    return make_error(ErrorKind::Unsupported,
                      ref.to_string() + ": the source index has manifests that were not loaded");
  }
  const LoadedManifest& only = image.manifests.front();
  if (!ref.tag.empty()) {
    DISTILL_CHECK(push_manifest(ref, ref.tag, only.manifest.media_type, only.manifest_json));
  }
  return only.descriptor.digest;
}

Result<LoadedImage> RegistryClient::pull(const ImageRef& ref) {
  DISTILL_TRY(Session * session, session_for(ref));
  std::string origin = ref.to_string();
  DISTILL_TRY(util::TempDir dir, util::TempDir::create("distill-pull-"));
  auto shared = std::make_shared<util::TempDir>(std::move(dir));
  std::filesystem::path layout = shared->path();
  DISTILL_TRY(BlobStore store, BlobStore::open(layout / "blobs"));

  auto get_manifest = [&](const std::string& reference) -> Result<Descriptor> {
    net::HttpRequest get;
    get.url = session->repo_url("/manifests/" + reference);
    get.headers.emplace_back("Accept", k_accept);
    DISTILL_TRY(net::HttpResponse response, session->send(get, origin));
    if (response.status != 200) {
      return http_error(origin + ": manifest " + reference, response);
    }
    DISTILL_TRY(std::string media_type, sniff_media_type(response.body, origin));
    std::string header_type = response.header("Content-Type");
    if (media_type.empty()) {
      media_type = header_type;
    }
    Descriptor descriptor = describe(response.body, media_type);
    if (reference.starts_with("sha256:") && descriptor.digest.str() != reference) {
      return make_error(ErrorKind::Corrupt, origin + ": manifest " + reference + " has digest " +
                                                descriptor.digest.str());
    }
    DISTILL_CHECK(store.put(response.body, media_type));
    return descriptor;
  };
  auto get_blob = [&](const Descriptor& descriptor) -> Status {
    if (store.contains(descriptor.digest)) {
      return {};
    }
    std::string what = origin + ": blob " + descriptor.digest.str();
    net::HttpRequest get;
    get.url = session->repo_url("/blobs/" + descriptor.digest.str());
    // A HEAD first settles authentication, so the streamed GET needs no retry.
    net::HttpRequest head = get;
    head.method = "HEAD";
    DISTILL_TRY(net::HttpResponse probe, session->send(head, what));
    (void)probe;
    if (!session->authorization.empty()) {
      get.headers.emplace_back("Authorization", session->authorization);
    }
    DISTILL_TRY(util::AtomicFile out, util::AtomicFile::create(store.path_for(descriptor.digest)));
    crypto::Sha256 hasher;
    uint64_t size = 0;
    auto result = m_http.download(
        get,
        [&](std::string_view chunk) -> Status {
          hasher.update(chunk);
          size += chunk.size();
          return out.write(chunk);
        },
        [&]() {
          hasher.reset();
          size = 0;
          (void)ftruncate(out.fd(), 0);
          (void)lseek(out.fd(), 0, SEEK_SET);
        },
        nullptr);
    if (!result.ok()) {
      return result.error().context(what);
    }
    crypto::Digest actual = hasher.finish();
    if (actual != descriptor.digest || size != descriptor.size) {
      return make_error(ErrorKind::Corrupt, what + ": received " + std::to_string(size) +
                                                " bytes with digest " + actual.str());
    }
    return out.commit();
  };
  auto get_image = [&](const Descriptor& descriptor) -> Status {
    DISTILL_TRY(std::string json, util::read_file(store.path_for(descriptor.digest)));
    DISTILL_TRY(Manifest manifest, Manifest::parse(json, origin));
    DISTILL_CHECK(get_blob(manifest.config));
    for (const auto& layer : manifest.layers) {
      DISTILL_CHECK(get_blob(layer));
    }
    return {};
  };

  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  DISTILL_TRY(Descriptor top, get_manifest(reference));
  if (is_index_media_type(top.media_type)) {
    DISTILL_TRY(std::string json, util::read_file(store.path_for(top.digest)));
    DISTILL_TRY(Index index, Index::parse(json, origin));
    for (const auto& child : index.manifests) {
      if (!is_manifest_media_type(child.media_type) ||
          (child.platform && child.platform->os == "unknown")) {
        continue;
      }
      DISTILL_TRY(Descriptor fetched, get_manifest(child.digest.str()));
      DISTILL_CHECK(get_image(fetched));
    }
  } else if (is_manifest_media_type(top.media_type)) {
    DISTILL_CHECK(get_image(top));
  } else {
    return make_error(ErrorKind::Unsupported,
                      origin + ": unsupported manifest type \"" + top.media_type + "\"");
  }

  Index layout_index;
  Descriptor tagged = top;
  tagged.annotations[std::string(k_annotation_ref_name)] = "pulled";
  layout_index.manifests.push_back(tagged);
  DISTILL_CHECK(util::write_file_atomic(layout / "index.json", layout_index.to_json()));
  ImageRef local;
  local.transport = ImageRef::Transport::OciLayout;
  local.path = layout;
  local.tag = "pulled";
  auto loaded = load_image(local);
  if (!loaded.ok()) {
    return loaded.error().context(origin);
  }
  loaded->keepalive = shared;
  return loaded;
}

}  // namespace distill::oci
