// RegistryClient against a scripted in-memory registry that misbehaves: blob
// uploads cut by a reset, replies lost after the blob was stored, 500s and 429
// with Retry-After; credentials the registry refuses; and pulls that fetch only
// one platform's blobs, into the content cache, once.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "oci/image.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/registry_client.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_base = "http://127.0.0.1:5999";

// SessionGone: the blob is stored, and the answer is the 404 a PUT sent again
// (by curl, on a fresh connection, after the first one's answer was lost)
// gets from the upload session the first one closed.
enum class Fault { None, Reset, LostReply, SessionGone, Status500, Status429 };

std::string decode_digest(std::string text) {
  size_t encoded = text.find("%3A");
  if (encoded != std::string::npos) {
    text.replace(encoded, 3, ":");
  }
  return text;
}

class FaultyRegistry final : public net::HttpClient {
 public:
  Result<net::HttpResponse> send(const net::HttpRequest& request) override {
    // Pulls fetch blobs on several threads; the fake's state is shared.
    std::lock_guard lock(m_mutex);
    std::string path = request.url.substr(std::string(k_base).size());
    requests.push_back(request.method + " " + path);
    net::HttpResponse response;
    if (!basic_user.empty()) {
      std::string auth;
      for (const auto& [name, value] : request.headers) {
        if (name == "Authorization") {
          auth = value;
        }
      }
      if (auth != "Basic " + basic_user) {
        response.status = 401;
        response.headers.emplace_back("WWW-Authenticate", R"(Basic realm="test")");
        response.body = R"({"errors":[{"code":"UNAUTHORIZED"}]})";
        return response;
      }
    }
    if (path == "/v2/") {
      response.status = 200;
    } else if (request.method == "HEAD" && path.find("/blobs/sha256:") != std::string::npos) {
      response.status = blobs.count(path.substr(path.rfind('/') + 1)) != 0 ? 200 : 404;
    } else if (request.method == "POST" && path == "/v2/team/app/blobs/uploads/") {
      if (posts_accepted >= 0 && count("POST ") > static_cast<size_t>(posts_accepted)) {
        response.status = 500;  // out of space, say
        response.body = R"({"errors":[{"code":"UNKNOWN","message":"no space left"}]})";
        return response;
      }
      response.status = 202;
      std::string session = "s" + std::to_string(++sessions);
      response.headers.emplace_back(
          "Location", relative_location ? session : "/v2/team/app/blobs/uploads/" + session);
    } else if (request.method == "PUT" && path.starts_with("/v2/team/app/blobs/uploads/")) {
      EXPECT_FALSE(request.retry_transient) << "an upload PUT must be sent once";
      Fault fault = Fault::None;
      if (!put_faults.empty()) {
        fault = put_faults.front();
        put_faults.pop_front();
      }
      std::string digest = decode_digest(path.substr(path.find("digest=") + 7));
      if (fault == Fault::Reset) {
        return make_error(ErrorKind::Network, "PUT " + request.url + ": Connection reset by peer");
      }
      auto body = util::read_file(request.body_file);
      EXPECT_TRUE(body.ok());
      if (fault == Fault::Status500 || fault == Fault::Status429) {
        response.status = fault == Fault::Status500 ? 500 : 429;
        if (fault == Fault::Status429) {
          response.headers.emplace_back("Retry-After", "1");
        }
        return response;
      }
      blobs[digest] = body.ok() ? *body : "";
      ++uploads;
      if (fault == Fault::LostReply) {
        return make_error(ErrorKind::Network, "PUT " + request.url + ": Empty reply from server");
      }
      if (fault == Fault::SessionGone) {
        response.status = 404;
        response.body = R"({"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]})";
        return response;
      }
      response.status = 201;
    } else if (request.method == "PUT" && path.starts_with("/v2/team/app/manifests/")) {
      manifests[path.substr(23)] = request.body;
      response.status = 201;
    } else if (request.method == "GET" && path.starts_with("/v2/team/app/manifests/")) {
      auto it = manifests.find(path.substr(23));
      if (it == manifests.end()) {
        response.status = 404;
      } else {
        response.status = 200;
        response.body = it->second;
      }
    } else {
      response.status = 404;
    }
    return response;
  }
  Result<net::HttpResponse> download(const net::HttpRequest& request,
                                     const std::function<Status(std::string_view)>& sink,
                                     const std::function<void()>& /*reset*/,
                                     const net::ProgressFn& /*progress*/) override {
    std::lock_guard lock(m_mutex);
    std::string path = request.url.substr(std::string(k_base).size());
    requests.push_back("GET " + path);
    auto it = blobs.find(path.substr(path.rfind('/') + 1));
    if (it == blobs.end()) {
      return make_error(ErrorKind::NotFound, "GET " + request.url + ": HTTP 404");
    }
    DISTILL_CHECK(sink(it->second));
    net::HttpResponse response;
    response.status = 200;
    return response;
  }

  [[nodiscard]] size_t count(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& request : requests) {
      n += request.starts_with(prefix) ? 1 : 0;
    }
    return n;
  }

  std::deque<Fault> put_faults;
  bool relative_location = false;  // "s1", relative to the POST's URL
  int posts_accepted = -1;         // POSTs answered 202, the rest 500; -1: all
  std::string basic_user;          // base64 USER:PASSWORD the registry accepts; empty: anonymous
  std::vector<std::string> requests;
  std::map<std::string, std::string> blobs;
  std::map<std::string, std::string> manifests;
  int sessions = 0;
  int uploads = 0;

 private:
  std::mutex m_mutex;
};

class RegistryFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-faults-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    options.plain_http = true;
    options.upload_attempts = 3;
    options.upload_backoff = std::chrono::milliseconds(1);
    options.lookup.getenv = [](const char*) { return std::optional<std::string>(); };
  }
  // One platform per architecture, each with one layer of its own.
  Image make_image(const std::vector<std::string>& archs) {
    Image image;
    for (const auto& arch : archs) {
      ImageManifest entry;
      entry.platform = platform_for_debian_arch(arch);
      LayerBlob layer;
      std::string content = "layer for " + arch;
      layer.file = m_dir->path() / ("layer-" + arch);
      EXPECT_TRUE(util::write_file_atomic(layer.file, content).ok());
      layer.descriptor = describe(content, std::string(k_media_oci_layer_gzip));
      layer.diff_id = crypto::sha256("tar " + arch);
      entry.layers.push_back(layer);
      image.manifests.push_back(entry);
    }
    EXPECT_TRUE(finalize(image).ok());
    return image;
  }
  ImageRef ref() { return *ImageRef::parse("docker://127.0.0.1:5999/team/app:v1"); }

  std::unique_ptr<util::TempDir> m_dir;
  RegistryOptions options;
  FaultyRegistry fake;
};

TEST_F(RegistryFaults, EachTransientUploadFaultRestartsTheUpload) {
  for (Fault fault : {Fault::Reset, Fault::LostReply, Fault::SessionGone, Fault::Status500}) {
    FaultyRegistry registry;
    registry.put_faults = {fault};
    Image image = make_image({"amd64"});
    RegistryClient client(registry, options);
    auto pushed = client.push(image, ref());
    ASSERT_TRUE(pushed.ok()) << static_cast<int>(fault) << ": " << pushed.error().message;
    // Both blobs (layer, config) arrived intact, the tag points at the index.
    EXPECT_EQ(registry.blobs[image.manifests[0].layers[0].descriptor.digest.str()],
              "layer for amd64");
    EXPECT_EQ(registry.blobs[image.manifests[0].config_descriptor.digest.str()],
              image.manifests[0].config_json);
    EXPECT_EQ(registry.manifests["v1"], image.index_json);
    EXPECT_EQ(client.push_stats().upload_restarts, 1U);
    // The restart asked again with HEAD and opened a new upload session; after
    // a lost reply the HEAD found the blob and nothing was sent twice.
    EXPECT_EQ(registry.count("HEAD "), 3U);
    if (fault == Fault::LostReply || fault == Fault::SessionGone) {
      EXPECT_EQ(registry.count("POST "), 2U);
      EXPECT_EQ(registry.uploads, 2);
      EXPECT_EQ(client.push_stats().blobs_present, 1U);
    } else {
      EXPECT_EQ(registry.count("POST "), 3U);
      EXPECT_EQ(registry.uploads, 2);
    }
  }
}

TEST_F(RegistryFaults, TooManyRequestsWaitsForRetryAfter) {
  fake.put_faults = {Fault::Status429};
  Image image = make_image({"amd64"});
  RegistryClient client(fake, options);
  auto start = std::chrono::steady_clock::now();
  auto pushed = client.push(image, ref());
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(950));
  EXPECT_EQ(fake.manifests["v1"], image.index_json);
}

TEST_F(RegistryFaults, AFailedPushLeavesNoTag) {
  fake.put_faults = {Fault::Reset, Fault::Reset, Fault::Reset};
  Image image = make_image({"amd64"});
  RegistryClient client(fake, options);
  auto pushed = client.push(image, ref());
  ASSERT_FALSE(pushed.ok());
  EXPECT_EQ(pushed.error().kind, ErrorKind::Network);
  EXPECT_NE(pushed.error().message.find(image.manifests[0].layers[0].descriptor.digest.str()),
            std::string::npos)
      << pushed.error().message;
  EXPECT_NE(pushed.error().message.find("after 3 upload attempts"), std::string::npos)
      << pushed.error().message;
  EXPECT_TRUE(fake.manifests.empty());  // no manifest, no tag
  EXPECT_EQ(fake.count("PUT /v2/team/app/manifests/"), 0U);
}

TEST_F(RegistryFaults, ARelativeUploadLocationIsResolvedAgainstThePost) {
  fake.relative_location = true;
  Image image = make_image({"amd64"});
  RegistryClient client(fake, options);
  auto pushed = client.push(image, ref());
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(fake.count("PUT /v2/team/app/blobs/uploads/s"), 2U);
  EXPECT_EQ(fake.manifests["v1"], image.index_json);
}

TEST_F(RegistryFaults, ARegistryRefusingUploadsEndsThePushAtItsFirstRefusal) {
  fake.posts_accepted = 1;  // the first blob goes in, then every POST is a 500
  options.upload_jobs = 1;
  Image image = make_image({"amd64", "arm64", "armhf", "i386"});
  RegistryClient client(fake, options);
  auto pushed = client.push(image, ref());
  ASSERT_FALSE(pushed.ok());
  // The HTTP client retries a 500 itself: the upload is not started again on
  // top of that, and no other blob is tried after it.
  EXPECT_EQ(fake.count("POST "), 2U);
  EXPECT_EQ(fake.count("HEAD "), 2U);
  EXPECT_NE(pushed.error().message.find("HTTP 500 UNKNOWN: no space left"), std::string::npos)
      << pushed.error().message;
  EXPECT_TRUE(fake.manifests.empty());
}

TEST_F(RegistryFaults, APermanentUploadErrorIsNotRetried) {
  // A 400-class answer to the PUT (here: a digest the registry refuses) ends
  // the push.
  class Gone final : public net::HttpClient {
   public:
    explicit Gone(FaultyRegistry& inner) : m_inner(inner) {}
    Result<net::HttpResponse> send(const net::HttpRequest& request) override {
      if (request.method == "PUT" && request.url.find("/blobs/uploads/") != std::string::npos) {
        ++puts;
        net::HttpResponse response;
        response.status = 400;
        response.body = R"({"errors":[{"code":"DIGEST_INVALID"}]})";
        return response;
      }
      return m_inner.send(request);
    }
    Result<net::HttpResponse> download(const net::HttpRequest& request,
                                       const std::function<Status(std::string_view)>& sink,
                                       const std::function<void()>& reset,
                                       const net::ProgressFn& progress) override {
      return m_inner.download(request, sink, reset, progress);
    }
    int puts = 0;

   private:
    FaultyRegistry& m_inner;
  } gone(fake);
  Image image = make_image({"amd64"});
  RegistryClient client(gone, options);
  auto pushed = client.push(image, ref());
  ASSERT_FALSE(pushed.ok());
  EXPECT_EQ(gone.puts, 1);
  EXPECT_TRUE(fake.manifests.empty());
}

TEST_F(RegistryFaults, RefusedCredentialsNameTheUserNotThePassword) {
  fake.basic_user = "YWxpY2U6czNjcmV0";  // alice:s3cret
  Image image = make_image({"amd64"});

  RegistryClient anonymous(fake, options);
  auto refused = anonymous.push(image, ref());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("registry 127.0.0.1:5999 needs credentials"),
            std::string::npos)
      << refused.error().message;

  RegistryOptions wrong = options;
  wrong.credentials = RegistryCredentials{"alice", "wrong-password", "--dest-creds"};
  RegistryClient bad(fake, wrong);
  auto denied = bad.push(image, ref());
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(denied.error().message.find(
                "registry 127.0.0.1:5999 rejected the credentials for alice (from --dest-creds)"),
            std::string::npos)
      << denied.error().message;
  EXPECT_EQ(denied.error().message.find("wrong-password"), std::string::npos);
  EXPECT_EQ(denied.error().message.find("errors"), std::string::npos);  // no raw JSON

  RegistryOptions right = options;
  right.credentials = RegistryCredentials{"alice", "s3cret", "--dest-creds"};
  RegistryClient good(fake, right);
  ASSERT_TRUE(good.push(image, ref()).ok());
}

TEST_F(RegistryFaults, PullFetchesOnlyTheWantedPlatformOnce) {
  Image image = make_image({"amd64", "arm64"});
  RegistryClient client(fake, options);
  ASSERT_TRUE(client.push(image, ref()).ok());
  fake.requests.clear();

  PullOptions pull;
  pull.cache_dir = m_dir->path() / "cache";
  pull.platform = platform_for_debian_arch("arm64");
  auto pulled = client.pull(ref(), pull);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  ASSERT_EQ(pulled->manifests.size(), 1U);
  const LoadedManifest& arm = pulled->manifests[0];
  EXPECT_EQ(arm.platform.architecture, "arm64");
  EXPECT_EQ(arm.descriptor.digest, image.manifests[1].manifest_descriptor.digest);
  EXPECT_TRUE(arm.descriptor.annotations.empty());
  EXPECT_EQ(pulled->index_descriptor->digest, image.index_descriptor.digest);
  EXPECT_EQ(pulled->index_json, image.index_json);
  ASSERT_EQ(arm.layer_files.size(), 1U);
  EXPECT_EQ(arm.layer_files[0],
            pull.cache_dir / "sha256" / image.manifests[1].layers[0].descriptor.digest.hex());
  EXPECT_EQ(*util::read_file(arm.layer_files[0]), "layer for arm64");
  // The amd64 manifest and blobs were not fetched.
  for (const auto& request : fake.requests) {
    EXPECT_EQ(request.find(image.manifests[0].manifest_descriptor.digest.str()), std::string::npos)
        << request;
    EXPECT_EQ(request.find(image.manifests[0].layers[0].descriptor.digest.str()), std::string::npos)
        << request;
  }
  EXPECT_EQ(fake.count("GET /v2/team/app/blobs/"), 2U);  // config + layer

  // Again: manifests only, every blob comes from the cache.
  fake.requests.clear();
  auto again = client.pull(ref(), pull);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(fake.count("GET /v2/team/app/blobs/"), 0U);
  EXPECT_EQ(fake.count("HEAD /v2/team/app/blobs/"), 0U);

  // By digest, or by a tag resolved within tag_fresh_for: no request at all.
  fake.requests.clear();
  ImageRef by_digest = ref();
  by_digest.digest = image.index_descriptor.digest.str();
  auto pinned = client.pull(by_digest, pull);
  ASSERT_TRUE(pinned.ok()) << pinned.error().message;
  EXPECT_EQ(pinned->manifests[0].layer_files, arm.layer_files);
  pull.tag_fresh_for = std::chrono::seconds(300);
  auto fresh = client.pull(ref(), pull);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(fresh->index_descriptor->digest, image.index_descriptor.digest);
  EXPECT_EQ(fresh->manifests[0].config_json, arm.config_json);
  EXPECT_TRUE(fake.requests.empty()) << fake.requests.front();
  // The tag moves: a fresh record still answers from the cache, a stale one asks.
  Image moved = make_image({"arm64"});
  moved.manifests[0].config.entrypoint = {"/moved"};
  ASSERT_TRUE(finalize(moved).ok());
  ASSERT_TRUE(client.push(moved, ref()).ok());
  fake.requests.clear();
  auto still = client.pull(ref(), pull);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->index_descriptor->digest, image.index_descriptor.digest);
  pull.tag_fresh_for = std::chrono::seconds(0);
  auto asked = client.pull(ref(), pull);
  ASSERT_TRUE(asked.ok()) << asked.error().message;
  EXPECT_EQ(asked->index_descriptor->digest, moved.index_descriptor.digest);

  // A platform the index lacks: NotFound listing what it has.
  pull.platform = platform_for_debian_arch("s390x");
  auto none = client.pull(ref(), pull);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::NotFound);
  EXPECT_NE(none.error().message.find("linux/arm64"), std::string::npos) << none.error().message;
}

// A pulled image's layers are the cache's files: while the image lives, the
// cache is held open, so a prune (which takes it exclusively) cannot remove
// them under `distill run` or `distill test`; once the image is gone, it can.
TEST_F(RegistryFaults, APulledImageHoldsTheCacheAgainstAPrune) {
  Image image = make_image({"arm64"});
  RegistryClient client(fake, options);
  ASSERT_TRUE(client.push(image, ref()).ok());
  PullOptions pull;
  pull.cache_dir = m_dir->path() / "cache";
  ImageRef by_digest = ref();
  by_digest.digest = image.index_descriptor.digest.str();
  for (bool from_cache : {false, true}) {  // then by digest, from the cache alone
    auto pulled = client.pull(from_cache ? by_digest : ref(), pull);
    ASSERT_TRUE(pulled.ok()) << pulled.error().message;
    EXPECT_EQ(fake.count("GET /v2/team/app/blobs/"), 2U) << from_cache;  // the first pull's
    auto prune = net::ContentCache::lock_exclusive(pull.cache_dir);
    ASSERT_FALSE(prune.ok()) << from_cache;
    EXPECT_NE(prune.error().message.find("in use"), std::string::npos) << prune.error().message;
    pulled = make_error(ErrorKind::NotFound, "gone");
    EXPECT_TRUE(net::ContentCache::lock_exclusive(pull.cache_dir).ok()) << from_cache;
  }
}

TEST_F(RegistryFaults, APulledBlobWithOtherBytesIsRefused) {
  Image image = make_image({"amd64"});
  RegistryClient client(fake, options);
  ASSERT_TRUE(client.push(image, ref()).ok());
  fake.blobs[image.manifests[0].layers[0].descriptor.digest.str()] = "tampered";
  PullOptions pull;
  pull.cache_dir = m_dir->path() / "cache";
  auto pulled = client.pull(ref(), pull);
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.error().kind, ErrorKind::Corrupt) << pulled.error().message;
  EXPECT_FALSE(
      fs::exists(pull.cache_dir / "sha256" / image.manifests[0].layers[0].descriptor.digest.hex()));
}

}  // namespace
}  // namespace distill::oci
