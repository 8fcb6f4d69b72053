// RegistryClient's Bearer token flow against a scripted fake HttpClient: the
// challenge's realm/service/scope, Basic credentials to the token endpoint, token
// reuse, the upload sequence and manifest content types.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
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
      response.status = 200;
      response.body = R"({"access_token":"T0K3N","expires_in":300})";
      return response;
    }
    if (auth != "Bearer T0K3N") {
      response.status = 401;
      response.headers.emplace_back("www-authenticate", k_challenge);
      return response;
    }
    std::string path = request.url.substr(std::string(k_base).size());
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
      response.status = 201;
    } else {
      response.status = 404;
    }
    return response;
  }
  Result<net::HttpResponse> download(const net::HttpRequest& request,
                                     const std::function<Status(std::string_view)>& /*sink*/,
                                     const std::function<void()>& /*reset*/,
                                     const net::ProgressFn& /*progress*/) override {
    return make_error(ErrorKind::Unsupported, "fake: no download of " + request.url);
  }

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

}  // namespace
}  // namespace distill::oci
