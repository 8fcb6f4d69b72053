// Tests for url_join, HttpResponse::header and the libcurl client, the latter
// against tests/integration/lib/http_server.py on 127.0.0.1 (with injected
// 500s, truncated bodies and redirects) and against file:// URLs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "net/http_client.hpp"
#include "test_server.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::net {
namespace {

TEST(UrlJoin, HandlesSlashes) {
  EXPECT_EQ(url_join("http://h/debian", "dists/x"), "http://h/debian/dists/x");
  EXPECT_EQ(url_join("http://h/debian/", "dists/x"), "http://h/debian/dists/x");
  EXPECT_EQ(url_join("http://h/debian/", "/dists/x"), "http://h/debian/dists/x");
  EXPECT_EQ(url_join("http://h/debian//", "//dists/x"), "http://h/debian/dists/x");
  EXPECT_EQ(url_join("http://h", "v2/"), "http://h/v2/");
  EXPECT_EQ(url_join("http://h/a", ""), "http://h/a/");
  EXPECT_EQ(url_join("file:///srv/repo", "pool/a.deb"), "file:///srv/repo/pool/a.deb");
  EXPECT_EQ(url_join("file:///", "srv/a"), "file:///srv/a");
  EXPECT_EQ(url_join("", "x/y"), "x/y");
}

TEST(UrlJoin, AbsolutePathWins) {
  EXPECT_EQ(url_join("http://h/v2/", "https://cdn.example/blob?x=1"),
            "https://cdn.example/blob?x=1");
}

TEST(HttpResponse, HeaderIsCaseInsensitiveFirstMatch) {
  HttpResponse response;
  response.headers = {{"Content-Type", "a"}, {"X-Y", "1"}, {"content-type", "b"}};
  EXPECT_EQ(response.header("content-TYPE"), "a");
  EXPECT_EQ(response.header("x-y"), "1");
  EXPECT_EQ(response.header("missing"), "");
}

class CurlClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-net-test-");
    ASSERT_TRUE(dir.ok());
    m_root = std::make_unique<util::TempDir>(std::move(*dir));
    std::filesystem::create_directories(root() / "a");
    ASSERT_TRUE(util::write_file_atomic(root() / "a" / "f.txt", "hello world\n").ok());
    m_big = std::string(300000, 'x');
    for (size_t i = 0; i < m_big.size(); i += 7) {
      m_big[i] = static_cast<char>('a' + i % 26);
    }
    ASSERT_TRUE(util::write_file_atomic(root() / "big.bin", m_big).ok());
    m_options.initial_backoff = std::chrono::milliseconds(1);
    m_options.retries = 3;
  }

  void start(const std::vector<std::string>& faults = {}) {
    if (!m_server.start(root(), faults)) {
      GTEST_SKIP() << "python3 test server unavailable";
    }
  }

  const std::filesystem::path& root() const { return m_root->path(); }

  // GET through download() into a string; counts sink resets.
  Result<HttpResponse> fetch(HttpClient& client, const std::string& url, std::string& out,
                             int& resets) {
    HttpRequest request;
    request.url = url;
    return client.download(
        request,
        [&](std::string_view data) -> Status {
          out.append(data);
          return {};
        },
        [&] {
          out.clear();
          ++resets;
        },
        {});
  }

  std::unique_ptr<util::TempDir> m_root;
  testing::TestServer m_server;
  TransferOptions m_options;
  std::string m_big;
};

TEST_F(CurlClientTest, GetReturnsBodyHeadersAndStatus) {
  start();
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world\n");
  EXPECT_EQ(response->header("content-length"), "12");
  EXPECT_EQ(response->effective_url, m_server.url("/a/f.txt"));
}

TEST_F(CurlClientTest, SendReturns404AsResponse) {
  start();
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = m_server.url("/nope")});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
}

TEST_F(CurlClientTest, DownloadOf404IsNotFoundNamingUrl) {
  start();
  auto client = make_curl_client(m_options);
  std::string out;
  int resets = 0;
  auto response = fetch(*client, m_server.url("/nope"), out, resets);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(response.error().message, "GET " + m_server.url("/nope") + ": HTTP 404");
  EXPECT_TRUE(out.empty());  // the error page never reaches the sink
}

TEST_F(CurlClientTest, RetriesServerErrorsThenSucceeds) {
  start({"--fail500", "f\\.txt$:2"});
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world\n");
  auto stats = client->send({.url = m_server.url("/__stats")});
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->body.find("\"/a/f.txt\": 3"), std::string::npos) << stats->body;
}

TEST_F(CurlClientTest, OneAttemptWhenTheCallerRetries) {
  // retry_transient=false (registry upload PUTs): a 500 comes back at once.
  start({"--fail500", "f\\.txt$:2"});
  auto client = make_curl_client(m_options);
  HttpRequest request{.url = m_server.url("/a/f.txt")};
  request.retry_transient = false;
  auto response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 500);
  auto stats = client->send({.url = m_server.url("/__stats")});
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->body.find("\"/a/f.txt\": 1"), std::string::npos) << stats->body;
}

TEST_F(CurlClientTest, NotImplementedIsNotRetried) {
  start({"--status", "f\\.txt$:501:5"});
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 501);
  auto stats = client->send({.url = m_server.url("/__stats")});
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->body.find("\"/a/f.txt\": 1"), std::string::npos) << stats->body;
}

TEST_F(CurlClientTest, ExhaustedRetriesReturnLastResponseOrError) {
  start({"--fail500", "f\\.txt$:-1"});
  m_options.retries = 2;
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 500);
  std::string out;
  int resets = 0;
  auto download = fetch(*client, m_server.url("/a/f.txt"), out, resets);
  ASSERT_FALSE(download.ok());
  EXPECT_EQ(download.error().kind, ErrorKind::Network);
  EXPECT_EQ(download.error().message, "GET " + m_server.url("/a/f.txt") + ": HTTP 500");
  EXPECT_EQ(resets, 2);
}

TEST_F(CurlClientTest, DownloadCanReturnAnErrorStatusAsTheResponse) {
  // For a caller that acts on the status (a registry's 401): the response, its
  // body kept apart from the sink.
  start({"--status", "f\\.txt$:401:1"});
  auto client = make_curl_client(m_options);
  int sunk = 0;
  auto response = client->download(
      {.url = m_server.url("/a/f.txt"), .error_status_as_response = true},
      [&](std::string_view) -> Status {
        ++sunk;
        return {};
      },
      [] {}, {});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->body, "injected fault\n");
  EXPECT_EQ(sunk, 0);
}

TEST_F(CurlClientTest, TruncatedBodyIsRetriedWithSinkReset) {
  start({"--truncate", "big\\.bin$:1000:2"});
  auto client = make_curl_client(m_options);
  std::string out;
  int resets = 0;
  auto response = fetch(*client, m_server.url("/big.bin"), out, resets);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(resets, 2);
  EXPECT_EQ(out, m_big);
}

TEST_F(CurlClientTest, TruncatedBodyEveryTimeIsNetworkError) {
  start({"--truncate", "big\\.bin$:1000:-1"});
  m_options.retries = 1;
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = m_server.url("/big.bin")});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::Network);
  EXPECT_NE(response.error().message.find(m_server.url("/big.bin")), std::string::npos);
}

TEST_F(CurlClientTest, SinkErrorStopsWithoutRetry) {
  start();
  auto client = make_curl_client(m_options);
  int calls = 0;
  int resets = 0;
  auto response = client->download(
      {.url = m_server.url("/big.bin")},
      [&](std::string_view) -> Status {
        ++calls;
        return make_error(ErrorKind::Io, "disk full");
      },
      [&] { ++resets; }, {});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::Io);
  EXPECT_EQ(response.error().message, "disk full");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(resets, 0);
}

TEST_F(CurlClientTest, ProgressReportsTotal) {
  start();
  auto client = make_curl_client(m_options);
  uint64_t last_now = 0;
  uint64_t last_total = 0;
  auto response = client->download(
      {.url = m_server.url("/big.bin")}, [](std::string_view) -> Status { return {}; }, [] {},
      [&](uint64_t now, uint64_t total) {
        last_now = now;
        last_total = total;
      });
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(last_total, m_big.size());
  EXPECT_EQ(last_now, m_big.size());
}

TEST_F(CurlClientTest, AStopRequestEndsATransferAtOnceAndIsNotRetried) {
  start({"--delay", "slow:30:10"});
  std::atomic<bool> stop{false};
  m_options.stop_requested = [&] { return stop.load(); };
  auto client = make_curl_client(m_options);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  const auto started = std::chrono::steady_clock::now();
  auto response = client->send({.url = m_server.url("/a/slow")});
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().message.find("interrupted"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find("/a/slow"), std::string::npos);
  // Once stopped, no new request is sent.
  auto next = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message.find("interrupted"), std::string::npos);
}

TEST_F(CurlClientTest, HeadAndRange) {
  start();
  auto client = make_curl_client(m_options);
  auto head = client->send({.method = "HEAD", .url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->header("Content-Length"), "12");
  auto range =
      client->send({.url = m_server.url("/a/f.txt"), .headers = {{"Range", "bytes=6-10"}}});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->body, "world");
}

TEST_F(CurlClientTest, FollowsRedirects) {
  start({"--faults", R"([{"path": "^/old/", "redirect": "/a/", "times": -1}])"});
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = m_server.url("/old/f.txt")});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world\n");
  EXPECT_EQ(response->effective_url, m_server.url("/a/f.txt"));
}

TEST_F(CurlClientTest, PostBodyAndUploadFromFile) {
  start();
  auto client = make_curl_client(m_options);
  // The server's control endpoint takes a JSON rule list as the POST body.
  auto bad = client->send({.method = "POST", .url = m_server.url("/__faults"), .body = "{oops"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  std::filesystem::path rules = root() / "rules.json";
  ASSERT_TRUE(
      util::write_file_atomic(rules, R"([{"path": "f\\.txt$", "status": 418, "times": 1}])").ok());
  auto ok = client->send({.method = "POST", .url = m_server.url("/__faults"), .body_file = rules});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  auto teapot = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(teapot.ok());
  EXPECT_EQ(teapot->status, 418);
}

TEST_F(CurlClientTest, UploadIsHashedAsSentAndAWrongFileNeverCompletes) {
  start();
  auto client = make_curl_client(m_options);
  std::filesystem::path rules = root() / "rules.json";
  std::string good = R"([{"path": "f\\.txt$", "status": 418, "times": 1}])";
  ASSERT_TRUE(util::write_file_atomic(rules, good).ok());
  auto sent = client->send({.method = "POST",
                            .url = m_server.url("/__faults"),
                            .body_file = rules,
                            .body_digest = crypto::sha256(good)});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->status, 200);
  auto teapot = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(teapot.ok());
  EXPECT_EQ(teapot->status, 418);

  // The file no longer has the digest it is sent under: the request stops
  // before its last byte, so the server never acts on it.
  std::string changed = R"([{"path": "f\\.txt$", "status": 419, "times": 1}])";
  ASSERT_TRUE(util::write_file_atomic(rules, changed).ok());
  auto refused = client->send({.method = "POST",
                               .url = m_server.url("/__faults"),
                               .body_file = rules,
                               .body_digest = crypto::sha256(good)});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(refused.error().message.find(rules.string()), std::string::npos);
  EXPECT_NE(refused.error().message.find(crypto::sha256(changed).str()), std::string::npos);
  auto plain = client->send({.url = m_server.url("/a/f.txt")});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 200);
}

TEST_F(CurlClientTest, ConcurrentUseFromThreads) {
  start();
  auto client = make_curl_client(m_options);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto response = client->send({.url = m_server.url("/big.bin")});
        if (response.ok() && response->status == 200 && response->body == m_big) {
          ++good;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(good.load(), 20);
}

TEST_F(CurlClientTest, FileUrls) {
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = "file://" + (root() / "a" / "f.txt").string()});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world\n");
  auto missing = client->send({.url = "file://" + (root() / "none").string()});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  std::string out;
  int resets = 0;
  auto download = fetch(*client, "file://" + (root() / "none").string(), out, resets);
  ASSERT_FALSE(download.ok());
  EXPECT_EQ(download.error().kind, ErrorKind::NotFound);
}

// RFC 8089's file:/PATH (no authority), as specs and apt sources may write it,
// reads like file:///PATH: 200 with the bytes, 404 when missing.
TEST_F(CurlClientTest, FileUrlsWithoutAuthority) {
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = "file:" + (root() / "a" / "f.txt").string()});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world\n");
  std::string out;
  int resets = 0;
  auto download = fetch(*client, "file:" + (root() / "a" / "f.txt").string(), out, resets);
  ASSERT_TRUE(download.ok()) << download.error().message;
  EXPECT_EQ(out, "hello world\n");
  auto missing = fetch(*client, "file:" + (root() / "none").string(), out, resets);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

TEST_F(CurlClientTest, ConnectionRefusedIsNetworkErrorNamingUrl) {
  // Find a port nobody listens on: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/x";
  m_options.retries = 1;
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = url});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::Network);
  EXPECT_EQ(response.error().message.rfind("GET " + url + ": ", 0), 0U) << response.error().message;
}

TEST_F(CurlClientTest, RejectsOtherSchemes) {
  auto client = make_curl_client(m_options);
  auto response = client->send({.url = "ftp://127.0.0.1/x"});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::Network);
}

}  // namespace
}  // namespace distill::net
