// RegistryClient against a real `docker-registry serve` (CNCF distribution) on
// 127.0.0.1: push, skopeo inspect, pull, re-push, and htpasswd Basic auth with
// explicit credentials and a docker config.json. Skipped without the binary.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "archive/byte_sink.hpp"
#include "archive/compressor.hpp"
#include "archive/tar_writer.hpp"
#include "net/http_client.hpp"
#include "oci/image.hpp"
#include "oci/media_types.hpp"
#include "oci/registry_client.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

extern char** environ;

namespace distill::oci {
namespace {

namespace fs = std::filesystem;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A docker-registry process on 127.0.0.1, stopped by PID.
class LocalRegistry {
 public:
  bool start(const fs::path& dir, const std::string& htpasswd_file) {
    m_port = free_port();
    std::string config =
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        "storage:\n  filesystem:\n    rootdirectory: " +
        (dir / "storage").string() + "\nhttp:\n  addr: 127.0.0.1:" + std::to_string(m_port) + "\n";
    if (!htpasswd_file.empty()) {
      config += "auth:\n  htpasswd:\n    realm: distill\n    path: " + htpasswd_file + "\n";
    }
    fs::path config_path = dir / "registry.yml";
    if (!util::write_file_atomic(config_path, config).ok()) {
      return false;
    }
    std::string program = util::find_program("docker-registry").string();
    std::vector<std::string> args = {program, "serve", config_path.string()};
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    // The registry logs every 404 at level error: keep that out of the test output.
    std::string log = (dir / "registry.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int spawned = ::posix_spawn(&m_pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      m_pid = -1;
      return false;
    }
    for (int i = 0; i < 100; ++i) {
      if (port_open(m_port)) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  ~LocalRegistry() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
    }
  }
  [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }

 private:
  pid_t m_pid = -1;
  int m_port = 0;
};

LayerBlob make_layer(const fs::path& file, const std::string& content) {
  LayerBlob layer;
  layer.file = file;
  auto out = util::AtomicFile::create(file);
  EXPECT_TRUE(out.ok());
  archive::FileSink file_sink(*out);
  archive::HashingSink compressed(&file_sink);
  auto gzip = archive::make_compressor(archive::Compression::Gzip, compressed, 1);
  archive::HashingSink uncompressed(gzip.get());
  archive::TarWriter tar(uncompressed);
  archive::TarEntry entry;
  entry.path = "hello.txt";
  EXPECT_TRUE(tar.add(entry, std::string_view(content)).ok());
  EXPECT_TRUE(tar.finish().ok());
  EXPECT_TRUE(out->commit().ok());
  layer.descriptor.media_type = std::string(k_media_oci_layer_gzip);
  layer.descriptor.digest = compressed.digest();
  layer.descriptor.size = compressed.size();
  layer.diff_id = uncompressed.digest();
  return layer;
}

Image make_image(const fs::path& dir) {
  Image image;
  for (const char* arch : {"amd64", "arm64"}) {
    ImageManifest entry;
    entry.platform = platform_for_debian_arch(arch);
    entry.config.created = format_rfc3339(0);
    entry.config.cmd = std::vector<std::string>{"/hello"};
    entry.layers.push_back(
        make_layer(dir / (std::string(arch) + ".tgz"), std::string("hi ") + arch));
    image.manifests.push_back(std::move(entry));
  }
  EXPECT_TRUE(finalize(image).ok());
  return image;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (util::find_program("docker-registry").empty()) {
      GTEST_SKIP() << "docker-registry not installed";
    }
    auto dir = util::TempDir::create("distill-registry-test-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    net::TransferOptions options;
    options.retries = 0;
    m_http = net::make_curl_client(options);
  }
  [[nodiscard]] fs::path path() const { return m_dir->path(); }
  std::unique_ptr<util::TempDir> m_dir;
  std::unique_ptr<net::HttpClient> m_http;
};

TEST_F(RegistryTest, PushInspectPullAndCopy) {
  LocalRegistry registry;
  ASSERT_TRUE(registry.start(path(), ""));
  Image image = make_image(path());
  // No plain_http: a loopback registry falls back from https to http.
  RegistryClient client(*m_http, RegistryOptions{});
  auto ref = *ImageRef::parse("docker://" + registry.host() + "/team/app:v1");
  auto pushed = client.push(image, ref);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(*pushed, image.index_descriptor.digest);
  // Pushing again skips the blobs and succeeds.
  ASSERT_TRUE(client.push(image, ref).ok());

  if (!util::find_program("skopeo").empty()) {
    auto inspect = util::run_command(
        util::Command{{"skopeo", "--override-arch", "arm64", "inspect", "--tls-verify=false",
                       "docker://" + registry.host() + "/team/app:v1"}});
    ASSERT_TRUE(inspect.ok());
    ASSERT_EQ(inspect->exit_code, 0) << inspect->stderr_data;
    auto json = nlohmann::json::parse(inspect->stdout_data);
    EXPECT_EQ(json["Architecture"], "arm64");
    EXPECT_EQ(json["Digest"], image.index_descriptor.digest.str());
  }

  PullOptions pull;
  pull.cache_dir = path() / "cache";
  auto pulled = client.pull(ref, pull);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  ASSERT_EQ(pulled->manifests.size(), 2U);
  EXPECT_EQ(pulled->index_descriptor->digest, image.index_descriptor.digest);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(pulled->manifests[i].config_json, image.manifests[i].config_json);
    EXPECT_EQ(pulled->manifests[i].platform, image.manifests[i].platform);
    EXPECT_EQ(*util::read_file(pulled->manifests[i].layer_files[0]),
              *util::read_file(image.manifests[i].layers[0].file));
  }

  // Copy to another repository keeps the digest; pull by digest works.
  auto copy_ref = *ImageRef::parse("docker://" + registry.host() + "/other/copy:c1");
  auto copied = client.push(*pulled, copy_ref);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(*copied, image.index_descriptor.digest);
  auto by_digest = client.pull(*ImageRef::parse("docker://" + registry.host() + "/other/copy@" +
                                                image.index_descriptor.digest.str()),
                               pull);
  ASSERT_TRUE(by_digest.ok()) << by_digest.error().message;

  auto missing =
      client.pull(*ImageRef::parse("docker://" + registry.host() + "/team/app:nope"), pull);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

// A destination by digest takes the image with that digest, and nothing else:
// another is refused before any blob goes up (as skopeo refuses it), and a
// tag beside the digest is refused too.
TEST_F(RegistryTest, PushToADigestTakesOnlyTheImageOfThatDigest) {
  LocalRegistry registry;
  ASSERT_TRUE(registry.start(path(), ""));
  Image image = make_image(path());
  RegistryClient client(*m_http, RegistryOptions{});
  const std::string repo = "docker://" + registry.host() + "/pin/app";
  const std::string other = "sha256:" + std::string(64, 'a');
  for (const std::string& text : {repo + "@" + other, repo + ":v1@" + other,
                                  repo + ":v1@" + image.index_descriptor.digest.str()}) {
    auto refused = client.push(image, *ImageRef::parse(text));
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_EQ(refused.error().kind, ErrorKind::InvalidInput) << refused.error().message;
    EXPECT_EQ(client.push_stats().blobs_uploaded, 0U) << text;
  }
  PullOptions pull;
  pull.cache_dir = path() / "cache";
  auto nothing =
      client.pull(*ImageRef::parse(repo + "@" + image.index_descriptor.digest.str()), pull);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().kind, ErrorKind::NotFound);

  auto by_digest = *ImageRef::parse(repo + "@" + image.index_descriptor.digest.str());
  auto pushed = client.push(image, by_digest);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(*pushed, image.index_descriptor.digest);
  auto pulled = client.pull(by_digest, pull);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  // A copy of what was pulled is held to the same rule.
  auto copied =
      client.push(*pulled, *ImageRef::parse("docker://" + registry.host() + "/pin/copy@" + other));
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.error().message.find("not the one the reference names; nothing pushed"),
            std::string::npos)
      << copied.error().message;
}

TEST_F(RegistryTest, BasicAuthWithCredentialsAndAuthFile) {
  if (util::find_program("htpasswd").empty()) {
    GTEST_SKIP() << "htpasswd not installed";
  }
  auto hash = util::run_command(util::Command{{"htpasswd", "-Bbn", "alice", "s3cret"}});
  ASSERT_TRUE(hash.ok());
  ASSERT_EQ(hash->exit_code, 0);
  fs::path htpasswd = path() / "htpasswd";
  ASSERT_TRUE(util::write_file_atomic(htpasswd, hash->stdout_data).ok());
  LocalRegistry registry;
  ASSERT_TRUE(registry.start(path(), htpasswd.string()));
  Image image = make_image(path());
  auto ref = *ImageRef::parse("docker://" + registry.host() + "/secure/app:v1");

  RegistryOptions anonymous;
  anonymous.plain_http = true;
  anonymous.lookup.getenv = [](const char*) { return std::optional<std::string>(); };
  anonymous.auth_file = path() / "empty.json";
  ASSERT_TRUE(util::write_file_atomic(anonymous.auth_file, "{}").ok());
  RegistryClient nobody(*m_http, anonymous);
  auto refused = nobody.push(image, ref);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("credentials"), std::string::npos)
      << refused.error().message;

  RegistryOptions wrong = anonymous;
  wrong.credentials = RegistryCredentials{"alice", "wrong"};
  RegistryClient bad(*m_http, wrong);
  auto denied = bad.push(image, ref);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("rejected the credentials for alice"), std::string::npos)
      << denied.error().message;
  EXPECT_EQ(denied.error().message.find("wrong"), std::string::npos) << denied.error().message;

  RegistryOptions explicit_creds = anonymous;
  explicit_creds.credentials = *parse_credentials("alice:s3cret");
  RegistryClient alice(*m_http, explicit_creds);
  auto pushed = alice.push(image, ref);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;

  RegistryOptions from_file;
  from_file.plain_http = true;
  from_file.lookup.getenv = anonymous.lookup.getenv;
  from_file.auth_file = path() / "config.json";
  // base64("alice:s3cret")
  ASSERT_TRUE(util::write_file_atomic(from_file.auth_file, R"({"auths":{")" + registry.host() +
                                                               R"(":{"auth":"YWxpY2U6czNjcmV0"}}})")
                  .ok());
  RegistryClient with_file(*m_http, from_file);
  PullOptions pull;
  pull.cache_dir = path() / "cache";
  auto pulled = with_file.pull(ref, pull);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  EXPECT_EQ(pulled->manifests.size(), 2U);
}

}  // namespace
}  // namespace distill::oci
