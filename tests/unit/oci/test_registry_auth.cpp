// RegistryClient's Bearer token flow against a scripted fake HttpClient: the
// challenge's realm/service/scope, Basic credentials to the token endpoint, token
// reuse, the upload sequence and manifest content types; a scope the token
// server does not grant told apart from refused credentials; a token that
// expires during a pull's blob downloads renewed once.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "oci/image.hpp"
#include "oci/media_types.hpp"
#include "oci/registry_client.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {
namespace {

constexpr const char* k_base = "https://reg.example:5000";
constexpr const char* k_challenge =
    R"(Bearer realm="https://auth.example/token",service="reg.example",)"
    R"(scope="repository:team/app:pull,push")";

class FakeRegistry final : public net::HttpClient {
 public:
  Result<net::HttpResponse> send(const net::HttpRequest& request) override {
    std::lock_guard lock(m_mutex);  // pushes upload blobs on several threads
    requests.push_back(request.method + " " + request.url);
    net::HttpResponse response;
    std::string auth;
    for (const auto& [name, value] : request.headers) {
      if (name == "Authorization") {
        auth = value;
      }
    }
    if (request.url.starts_with("https://auth.example/token?")) {
      ++token_requests;
      token_url = request.url;
      token_auth = auth;
      if (!accepted_auth.empty() && auth != accepted_auth) {
        response.status = 401;
        return response;
      }
      response.status = 200;
      response.body = R"({"access_token":")" + token + R"(","expires_in":300})";
      return response;
    }
    if (auth != "Bearer " + token) {
      return challenge(response, false);
    }
    std::string path = request.url.substr(std::string(k_base).size());
    bool push = request.method != "GET" && request.method != "HEAD";
    if (push && deny_push == Denial::Scope) {
      return challenge(response, true);  // docker-registry: a token without push
    }
    if (push && deny_push == Denial::Forbidden) {
      response.status = 403;  // Docker Hub, Harbor, GitLab
      response.body = R"({"errors":[{"code":"DENIED","message":"requested access to the )"
                      R"(resource is denied"}]})";
      return response;
    }
    if (request.method == "HEAD") {
      response.status = blobs.count(path.substr(path.rfind('/') + 1)) != 0 ? 200 : 404;
    } else if (request.method == "POST" && path == "/v2/team/app/blobs/uploads/") {
      response.status = 202;
      response.headers.emplace_back("Location", "/v2/team/app/blobs/uploads/u1?state=x");
    } else if (request.method == "PUT" && path.starts_with("/v2/team/app/blobs/uploads/u1?")) {
      std::string digest = path.substr(path.find("digest=") + 7);
      size_t encoded = digest.find("%3A");
      EXPECT_NE(encoded, std::string::npos) << path;
      digest.replace(encoded, 3, ":");
      auto body = util::read_file(request.body_file);
      EXPECT_TRUE(body.ok());
      blobs[digest] = body.ok() ? *body : "";
      response.status = 201;
    } else if (request.method == "PUT" && path.starts_with("/v2/team/app/manifests/")) {
      std::string type;
      for (const auto& [name, value] : request.headers) {
        if (name == "Content-Type") {
          type = value;
        }
      }
      manifests.emplace_back(path.substr(23), type);
      manifest_bodies[path.substr(23)] = {type, request.body};
      response.status = 201;
    } else if (request.method == "GET" && manifest_bodies.count(path.substr(23)) != 0) {
      response.status = 200;
      response.headers.emplace_back("Content-Type", manifest_bodies[path.substr(23)].first);
      response.body = manifest_bodies[path.substr(23)].second;
    } else {
      response.status = 404;
    }
    return response;
  }
  // Blob GETs, as net::HttpClient::download answers them.
  Result<net::HttpResponse> download(const net::HttpRequest& request,
                                     const std::function<Status(std::string_view)>& sink,
                                     const std::function<void()>& /*reset*/,
                                     const net::ProgressFn& /*progress*/) override {
    std::string auth;
    for (const auto& [name, value] : request.headers) {
      if (name == "Authorization") {
        auth = value;
      }
    }
    std::string content;
    net::HttpResponse response;
    {
      std::lock_guard lock(m_mutex);
      requests.push_back("DOWNLOAD " + request.url);
      if (expire_at_download) {
        // The token of the pull expires: the token server gives a new one
        // (or, revoked, none), every GET still carrying the old one is refused.
        expire_at_download = false;
        token = "T0K3N-2";
        accepted_auth = revoke_at_expiry ? "Basic revoked" : accepted_auth;
      }
      if (auth != "Bearer " + token || deny_pull) {
        challenge(response, deny_pull);
        ++refused_downloads;
      } else {
        std::string digest = request.url.substr(request.url.rfind('/') + 1);
        content = blobs[digest];
        response.status = 200;
      }
    }
    if (response.status != 200) {
      if (request.error_status_as_response) {
        return response;
      }
      return make_error(ErrorKind::Network, "GET " + request.url + ": HTTP 401");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // transfers overlap
    DISTILL_CHECK(sink(content));
    return response;
  }

  static net::HttpResponse& challenge(net::HttpResponse& response, bool insufficient_scope) {
    response.status = 401;
    response.headers.emplace_back(
        "www-authenticate",
        std::string(k_challenge) + (insufficient_scope ? R"(,error="insufficient_scope")" : ""));
    response.body = R"({"errors":[{"code":"UNAUTHORIZED"}]})";
    return response;
  }

  enum class Denial { None, Scope, Forbidden };
  std::string token = "T0K3N";  // the one the registry takes, and the token server gives
  std::string accepted_auth;    // what the token server wants; empty: anyone
  Denial deny_push = Denial::None;
  bool deny_pull = false;           // blob GETs: 401 insufficient_scope
  bool expire_at_download = false;  // the token changes at the first blob GET
  bool revoke_at_expiry = false;    // and the token server refuses from then on
  int refused_downloads = 0;
  std::map<std::string, std::pair<std::string, std::string>> manifest_bodies;  // type, bytes
  std::vector<std::string> requests;
  int token_requests = 0;
  std::string token_url;
  std::string token_auth;
  std::map<std::string, std::string> blobs;                    // "sha256:..." -> content
  std::vector<std::pair<std::string, std::string>> manifests;  // reference, content type
 private:
  std::mutex m_mutex;
};

TEST(RegistryBearer, PushFetchesOneTokenWithBasicCredentials) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::filesystem::path layer_file = dir->path() / "layer";
  ASSERT_TRUE(util::write_file_atomic(layer_file, "not really gzip").ok());
  Image image;
  ImageManifest entry;
  entry.platform = platform_for_debian_arch("amd64");
  LayerBlob layer;
  layer.file = layer_file;
  layer.descriptor = describe("not really gzip", std::string(k_media_oci_layer_gzip));
  layer.diff_id = crypto::sha256("tar");
  entry.layers.push_back(layer);
  image.manifests.push_back(entry);
  ASSERT_TRUE(finalize(image).ok());

  FakeRegistry fake;
  RegistryOptions options;
  options.credentials = RegistryCredentials{"bob", "pw"};
  RegistryClient client(fake, options);
  auto pushed = client.push(image, *ImageRef::parse("docker://reg.example:5000/team/app:v3"));
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(*pushed, image.index_descriptor.digest);

  EXPECT_EQ(fake.token_requests, 1);
  EXPECT_EQ(fake.token_url,
            "https://auth.example/token?service=reg.example&"
            "scope=repository%3Ateam%2Fapp%3Apull%2Cpush");
  EXPECT_EQ(fake.token_auth, "Basic Ym9iOnB3");  // base64("bob:pw")
  EXPECT_EQ(fake.requests.front(), std::string("GET ") + k_base + "/v2/");

  ASSERT_EQ(fake.blobs.size(), 2U);
  EXPECT_EQ(fake.blobs[layer.descriptor.digest.str()], "not really gzip");
  EXPECT_EQ(fake.blobs[image.manifests[0].config_descriptor.digest.str()],
            image.manifests[0].config_json);
  ASSERT_EQ(fake.manifests.size(), 2U);
  EXPECT_EQ(fake.manifests[0].first, image.manifests[0].manifest_descriptor.digest.str());
  EXPECT_EQ(fake.manifests[0].second, k_media_oci_manifest);
  EXPECT_EQ(fake.manifests[1].first, "v3");
  EXPECT_EQ(fake.manifests[1].second, k_media_oci_index);

  // A second push reuses the token and skips the blobs already there.
  fake.manifests.clear();
  ASSERT_TRUE(client.push(image, *ImageRef::parse("docker://reg.example:5000/team/app:v3")).ok());
  EXPECT_EQ(fake.token_requests, 1);
  EXPECT_EQ(fake.blobs.size(), 2U);
}

TEST(RegistryBearer, DockerHubUsesRegistryOneHost) {
  FakeRegistry fake;
  RegistryClient client(fake, RegistryOptions{});
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  PullOptions pull;
  pull.cache_dir = dir->path() / "cache";
  auto pulled = client.pull(*ImageRef::parse("docker://alpine:3"), pull);
  ASSERT_FALSE(pulled.ok());
  ASSERT_FALSE(fake.requests.empty());
  EXPECT_EQ(fake.requests.front(), "GET https://registry-1.docker.io/v2/");
}

// An image of `layers` small layers (files in `dir`).
Image make_image(const std::filesystem::path& dir, int layers) {
  Image image;
  ImageManifest entry;
  entry.platform = platform_for_debian_arch("amd64");
  for (int i = 0; i < layers; ++i) {
    LayerBlob layer;
    std::string content = "layer " + std::to_string(i);
    layer.file = dir / ("layer-" + std::to_string(i));
    EXPECT_TRUE(util::write_file_atomic(layer.file, content).ok());
    layer.descriptor = describe(content, std::string(k_media_oci_layer_gzip));
    layer.diff_id = crypto::sha256("tar " + std::to_string(i));
    entry.layers.push_back(layer);
  }
  image.manifests.push_back(entry);
  EXPECT_TRUE(finalize(image).ok());
  return image;
}

RegistryOptions bob(const std::string& origin) {
  RegistryOptions options;
  options.credentials = RegistryCredentials{"bob", "pw", origin};
  return options;
}

const ImageRef& app_ref() {
  static const ImageRef ref = *ImageRef::parse("docker://reg.example:5000/team/app:v3");
  return ref;
}

TEST(RegistryBearer, AScopeTheTokenServerRefusesIsAccessDeniedNotAWrongPassword) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  Image image = make_image(dir->path(), 1);

  // docker-registry: the token server takes bob's password but grants no push;
  // the registry answers 401 error="insufficient_scope".
  FakeRegistry scope;
  scope.accepted_auth = "Basic Ym9iOnB3";  // base64("bob:pw")
  scope.deny_push = FakeRegistry::Denial::Scope;
  RegistryClient client(scope, bob("--dest-creds"));
  auto pushed = client.push(image, app_ref());
  ASSERT_FALSE(pushed.ok());
  EXPECT_EQ(pushed.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(pushed.error().message.find("registry reg.example:5000: access to team/app denied "
                                        "(push) for bob (from --dest-creds): insufficient_scope"),
            std::string::npos)
      << pushed.error().message;
  EXPECT_EQ(pushed.error().message.find("rejected the credentials"), std::string::npos);
  EXPECT_EQ(pushed.error().message.find('\n'), std::string::npos);
  EXPECT_TRUE(scope.manifests.empty());

  // Docker Hub, Harbor, GitLab: 403 with a DENIED error.
  FakeRegistry forbidden;
  forbidden.deny_push = FakeRegistry::Denial::Forbidden;
  RegistryClient hub(forbidden, bob("--dest-creds"));
  auto denied = hub.push(image, app_ref());
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("registry reg.example:5000: access to team/app denied "
                                        "(push) for bob (from --dest-creds): DENIED"),
            std::string::npos)
      << denied.error().message;
  EXPECT_EQ(denied.error().message.find("requested access"), std::string::npos);  // no body

  // The token endpoint refusing the password is still a wrong password.
  FakeRegistry wrong;
  wrong.accepted_auth = "Basic c29tZW9uZTplbHNl";
  RegistryClient refused(wrong, bob("--dest-creds"));
  auto rejected = refused.push(image, app_ref());
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.error().message.find(
                "registry reg.example:5000 rejected the credentials for bob (from --dest-creds)"),
            std::string::npos)
      << rejected.error().message;
}

TEST(RegistryBearer, ATokenThatExpiresDuringBlobDownloadsIsRenewedOnce) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  Image image = make_image(dir->path(), 6);
  FakeRegistry fake;
  {
    RegistryClient pusher(fake, bob("--dest-creds"));
    ASSERT_TRUE(pusher.push(image, app_ref()).ok());
  }
  fake.token_requests = 0;
  fake.expire_at_download = true;
  RegistryClient client(fake, bob("--src-creds"));
  PullOptions pull;
  pull.cache_dir = dir->path() / "cache";
  pull.jobs = 4;
  auto pulled = client.pull(app_ref(), pull);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  ASSERT_EQ(pulled->manifests.size(), 1U);
  ASSERT_EQ(pulled->manifests[0].layer_files.size(), 6U);
  EXPECT_EQ(*util::read_file(pulled->manifests[0].layer_files[5]), "layer 5");
  EXPECT_GE(fake.refused_downloads, 1);
  // The pull's first token, and one renewal shared by every refused GET.
  EXPECT_EQ(fake.token_requests, 2);
}

TEST(RegistryBearer, ABlobDownloadRefusedAfterRenewalIsOneCredentialLine) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  Image image = make_image(dir->path(), 2);
  for (bool revoked : {true, false}) {
    FakeRegistry fake;
    {
      RegistryClient pusher(fake, bob("--dest-creds"));
      ASSERT_TRUE(pusher.push(image, app_ref()).ok());
    }
    // Revoked: the token server refuses bob once the token expired. Else the
    // new token still does not cover the blobs.
    fake.expire_at_download = true;
    fake.revoke_at_expiry = revoked;
    fake.deny_pull = !revoked;
    RegistryClient client(fake, bob("--src-creds"));
    PullOptions pull;
    pull.cache_dir = dir->path() / ("cache-" + std::to_string(static_cast<int>(revoked)));
    auto pulled = client.pull(app_ref(), pull);
    ASSERT_FALSE(pulled.ok());
    const std::string& message = pulled.error().message;
    EXPECT_EQ(pulled.error().kind, ErrorKind::InvalidInput) << message;
    EXPECT_NE(message.find("docker://reg.example:5000/team/app:v3: blob sha256:"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(revoked ? "registry reg.example:5000 rejected the credentials for bob "
                                     "(from --src-creds)"
                                   : "registry reg.example:5000: access to team/app denied "
                                     "(pull) for bob (from --src-creds): insufficient_scope"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find("HTTP 401"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace distill::oci
