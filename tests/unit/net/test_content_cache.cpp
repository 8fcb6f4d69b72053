// Tests for ContentCache: insert/verify/reject, insert_file, and fetch_all
// against a scripted fake HttpClient (mismatches, alternatives, the retry
// path through sink_reset) and against real curl with a truncating server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "net/content_cache.hpp"
#include "test_server.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::net {
namespace {

// Serves bodies from a map; can simulate one truncated attempt per URL (the
// partial body is sunk, then sink_reset() is called, as the curl client does).
class FakeClient : public HttpClient {
 public:
  void put(const std::string& url, std::string body) { m_bodies[url] = std::move(body); }
  void flaky(const std::string& url) { m_flaky[url] = true; }

  Result<HttpResponse> send(const HttpRequest& request) override {
    std::lock_guard lock(m_mutex);
    ++m_calls[request.url];
    HttpResponse response;
    auto it = m_bodies.find(request.url);
    response.status = it == m_bodies.end() ? 404 : 200;
    if (it != m_bodies.end()) {
      response.body = it->second;
    }
    return response;
  }

  Result<HttpResponse> download(const HttpRequest& request,
                                const std::function<Status(std::string_view)>& sink,
                                const std::function<void()>& sink_reset,
                                const ProgressFn& /*progress*/) override {
    std::string body;
    bool flaky = false;
    {
      std::lock_guard lock(m_mutex);
      ++m_calls[request.url];
      auto it = m_bodies.find(request.url);
      if (it == m_bodies.end()) {
        return make_error(ErrorKind::NotFound, "GET " + request.url + ": HTTP 404");
      }
      body = it->second;
      flaky = m_flaky[request.url];
      m_flaky[request.url] = false;
    }
    if (flaky) {
      DISTILL_CHECK(sink(std::string_view(body).substr(0, body.size() / 2)));
      sink_reset();
    }
    // Deliver in small chunks, like a real transfer.
    for (size_t i = 0; i < body.size(); i += 7) {
      DISTILL_CHECK(sink(std::string_view(body).substr(i, 7)));
    }
    HttpResponse response;
    response.status = 200;
    response.effective_url = request.url;
    return response;
  }

  int calls(const std::string& url) {
    std::lock_guard lock(m_mutex);
    return m_calls[url];
  }

 private:
  std::mutex m_mutex;
  std::map<std::string, std::string> m_bodies;
  std::map<std::string, bool> m_flaky;
  std::map<std::string, int> m_calls;
};

class ContentCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-cache-test-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    auto cache = ContentCache::open(m_dir->path() / "cache");
    ASSERT_TRUE(cache.ok()) << cache.error().message;
    m_cache = std::make_unique<ContentCache>(std::move(*cache));
  }

  static FetchItem item(const std::string& label, std::string_view content,
                        std::vector<std::string> urls) {
    FetchItem result;
    result.urls = std::move(urls);
    result.sha256 = crypto::sha256(content);
    result.size = content.size();
    result.label = label;
    return result;
  }

  [[nodiscard]] bool tmp_is_empty() const {
    return std::filesystem::is_empty(m_cache->dir() / "tmp");
  }

  std::unique_ptr<util::TempDir> m_dir;
  std::unique_ptr<ContentCache> m_cache;
};

TEST_F(ContentCacheTest, OpenCreatesLayout) {
  EXPECT_TRUE(std::filesystem::is_directory(m_dir->path() / "cache" / "sha256"));
  EXPECT_TRUE(std::filesystem::is_directory(m_dir->path() / "cache" / "tmp"));
  crypto::Digest digest = crypto::sha256("x");
  EXPECT_EQ(m_cache->path_for(digest), m_dir->path() / "cache" / "sha256" / digest.hex());
  EXPECT_EQ(m_cache->dir(), m_dir->path() / "cache");
}

TEST_F(ContentCacheTest, OpenFailsOnAFile) {
  ASSERT_TRUE(util::write_file_atomic(m_dir->path() / "plain", "x").ok());
  auto cache = ContentCache::open(m_dir->path() / "plain");
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.error().kind, ErrorKind::Io);
}

// What a killed process left (an unlocked temporary) goes at open(), or,
// with Sweep::ByCaller, when the caller runs sweep(); a temporary someone
// holds stays either way.
TEST_F(ContentCacheTest, OpenSweepsAbandonedTemporariesUnlessTheCallerWill) {
  const auto dir = m_dir->path() / "cache";
  const auto left = dir / "sha256" / ".abc.tmp.XXXXXX";
  const auto held = dir / "sha256" / ".def.tmp.YYYYYY";
  ASSERT_TRUE(util::write_file_atomic(left, "half").ok());
  ASSERT_TRUE(util::write_file_atomic(held, "half").ok());
  util::Fd holder(::open(held.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(holder.valid());
  ASSERT_EQ(::flock(holder.get(), LOCK_EX), 0);

  ASSERT_TRUE(ContentCache::open(dir, ContentCache::Sweep::ByCaller).ok());
  EXPECT_TRUE(std::filesystem::exists(left));
  ContentCache::sweep(dir);
  EXPECT_FALSE(std::filesystem::exists(left));
  EXPECT_TRUE(std::filesystem::exists(held));

  ASSERT_TRUE(util::write_file_atomic(left, "half").ok());
  ASSERT_TRUE(ContentCache::open(dir).ok());
  EXPECT_FALSE(std::filesystem::exists(left));
  EXPECT_TRUE(std::filesystem::exists(held));
}

// Every kind of entry is swept, and so are their subdirectories (layers of a
// layout in blobs/sha256/, package groups in layers/groups/); an entry, a
// file whose name only looks like a temporary's, and what a link points to stay.
TEST_F(ContentCacheTest, TheSweepReachesEveryKindAndItsSubdirectories) {
  const auto dir = m_dir->path() / "cache";
  const auto outside = m_dir->path() / "outside";
  std::filesystem::create_directories(outside);
  ASSERT_TRUE(util::write_file_atomic(outside / ".x.tmp.AAAAAA", "theirs").ok());
  std::vector<std::filesystem::path> left;
  for (const auto& kind : ContentCache::kinds()) {
    left.push_back(dir / kind / ".abc.tmp.XXXXXX");
  }
  left.push_back(dir / "blobs" / "sha256" / ".abc.tmp.XXXXXX");
  left.push_back(dir / "layers" / "groups" / ".abc.tmp.XXXXXX");
  left.push_back(dir / "tmp" / ".abc.tmp.XXXXXX");
  for (const auto& path : left) {
    std::filesystem::create_directories(path.parent_path());
    ASSERT_TRUE(util::write_file_atomic(path, "half").ok()) << path;
  }
  const auto entry = dir / "views" / "abc.bin";
  const auto lookalike = dir / "views" / "abc.tmp.XXXXXX";
  ASSERT_TRUE(util::write_file_atomic(entry, "whole").ok());
  ASSERT_TRUE(util::write_file_atomic(lookalike, "whole").ok());
  std::filesystem::create_directory_symlink(outside, dir / "layers" / "elsewhere");

  ASSERT_TRUE(ContentCache::open(dir).ok());
  for (const auto& path : left) {
    EXPECT_FALSE(std::filesystem::exists(path)) << path;
  }
  EXPECT_TRUE(std::filesystem::exists(entry));
  EXPECT_TRUE(std::filesystem::exists(lookalike));
  EXPECT_TRUE(std::filesystem::exists(outside / ".x.tmp.AAAAAA"));
  EXPECT_EQ(ContentCache::kinds().size(), 17U);
}

// Every open cache holds <cache>/lock shared: lock_exclusive (what `distill
// prune` takes) is refused while one does, and an open() during a prune
// waits for it to end, saying so once.
TEST_F(ContentCacheTest, AnOpenCacheIsHeldAgainstAPrune) {
  const auto dir = m_dir->path() / "cache";
  auto refused = ContentCache::lock_exclusive(dir);
  ASSERT_FALSE(refused.ok());  // the fixture's m_cache holds it
  EXPECT_NE(refused.error().message.find("in use by another distill process"), std::string::npos);
  m_cache.reset();
  auto prune = ContentCache::lock_exclusive(dir);
  ASSERT_TRUE(prune.ok()) << prune.error().message;
  int waited = 0;
  std::thread ends([&prune] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    prune->reset();
  });
  auto open = ContentCache::open(dir, ContentCache::Sweep::ByCaller, [&waited] { ++waited; });
  ends.join();
  ASSERT_TRUE(open.ok()) << open.error().message;
  EXPECT_EQ(waited, 1);
  EXPECT_FALSE(ContentCache::lock_exclusive(dir).ok());
}

TEST_F(ContentCacheTest, InsertVerifiesAndPublishes) {
  crypto::Digest digest = crypto::sha256("content");
  EXPECT_FALSE(m_cache->contains(digest));
  ASSERT_TRUE(m_cache->insert(digest, "content").ok());
  EXPECT_TRUE(m_cache->contains(digest));
  auto data = util::read_file(m_cache->path_for(digest));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "content");
  // Inserting again is a no-op.
  EXPECT_TRUE(m_cache->insert(digest, "content").ok());
  EXPECT_TRUE(tmp_is_empty());
}

TEST_F(ContentCacheTest, InsertRejectsWrongContent) {
  crypto::Digest digest = crypto::sha256("expected");
  Status status = m_cache->insert(digest, "other");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(status.error().message.find("sha256 mismatch (expected " + digest.hex() + ", got " +
                                        crypto::sha256("other").hex() + ")"),
            std::string::npos);
  EXPECT_FALSE(m_cache->contains(digest));
  EXPECT_FALSE(m_cache->contains(crypto::sha256("other")));
}

TEST_F(ContentCacheTest, InsertFileMovesItIn) {
  std::filesystem::path source = m_dir->path() / "blob";
  ASSERT_TRUE(util::write_file_atomic(source, "blob data").ok());
  auto path = m_cache->insert_file(source);
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(*path, m_cache->path_for(crypto::sha256("blob data")));
  EXPECT_FALSE(std::filesystem::exists(source));
  auto data = util::read_file(*path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "blob data");
  // The same content again: the source is consumed, the entry unchanged.
  ASSERT_TRUE(util::write_file_atomic(source, "blob data").ok());
  auto again = m_cache->insert_file(source);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *path);
  EXPECT_FALSE(std::filesystem::exists(source));
}

TEST_F(ContentCacheTest, InsertFileMissingIsNotFound) {
  auto path = m_cache->insert_file(m_dir->path() / "missing");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().kind, ErrorKind::NotFound);
}

TEST_F(ContentCacheTest, FetchAllDownloadsAndVerifies) {
  FakeClient client;
  client.put("http://m/a.deb", "package a");
  client.put("http://m/b.deb", "package b, longer");
  client.put("http://m/c.deb", std::string(5000, 'c'));
  std::vector<FetchItem> items = {item("a", "package a", {"http://m/a.deb"}),
                                  item("b", "package b, longer", {"http://m/b.deb"}),
                                  item("c", std::string(5000, 'c'), {"http://m/c.deb"})};
  std::vector<FetchProgress> reports;
  ASSERT_TRUE(
      m_cache->fetch_all(client, items, 2, [&](const FetchProgress& p) { reports.push_back(p); })
          .ok());
  for (const auto& it : items) {
    EXPECT_TRUE(m_cache->contains(it.sha256)) << it.label;
  }
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().items_done, 3U);
  EXPECT_EQ(reports.back().items_total, 3U);
  EXPECT_EQ(reports.back().bytes_total, 9U + 17U + 5000U);
  EXPECT_EQ(reports.back().bytes_done, reports.back().bytes_total);
  EXPECT_TRUE(tmp_is_empty());

  // Present items are skipped without any transfer.
  ASSERT_TRUE(m_cache->fetch_all(client, items, 2).ok());
  EXPECT_EQ(client.calls("http://m/a.deb"), 1);
  EXPECT_EQ(client.calls("http://m/c.deb"), 1);
}

// A flipped byte in a cached entry (issue 11, item 7): the entry is not
// trusted, it is dropped and the next fetch_all downloads it again.
TEST_F(ContentCacheTest, DamagedEntryIsDroppedAndFetchedAgain) {
  FakeClient client;
  client.put("http://m/a.deb", "package a");
  std::vector<FetchItem> items = {item("a", "package a", {"http://m/a.deb"})};
  ASSERT_TRUE(m_cache->fetch_all(client, items, 1).ok());
  std::filesystem::path entry = m_cache->path_for(items[0].sha256);
  ASSERT_TRUE(m_cache->contains(items[0].sha256));

  {
    // In place, same size, as a disk error or a stray write would do.
    FILE* f = std::fopen(entry.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 3, SEEK_SET);
    std::fputc('X', f);
    std::fclose(f);
  }
  EXPECT_FALSE(m_cache->contains(items[0].sha256));
  EXPECT_FALSE(std::filesystem::exists(entry));
  ASSERT_TRUE(m_cache->fetch_all(client, items, 1).ok());
  EXPECT_EQ(client.calls("http://m/a.deb"), 2);
  EXPECT_EQ(*util::read_file(entry), "package a");
  EXPECT_TRUE(m_cache->contains(items[0].sha256));
}

// An entry rewritten with the same bytes (a stamp that changed) is hashed,
// found good and kept: no download.
TEST_F(ContentCacheTest, RewrittenGoodEntryIsKept) {
  crypto::Digest digest = crypto::sha256("content");
  ASSERT_TRUE(m_cache->insert(digest, "content").ok());
  std::filesystem::path entry = m_cache->path_for(digest);
  std::filesystem::remove(entry);
  ASSERT_TRUE(util::write_file_atomic(entry, "content").ok());
  EXPECT_TRUE(m_cache->contains(digest));
  EXPECT_TRUE(std::filesystem::exists(entry));
  // A truncated one is dropped.
  std::filesystem::resize_file(entry, 3);
  EXPECT_FALSE(m_cache->contains(digest));
  EXPECT_FALSE(std::filesystem::exists(entry));
}

TEST_F(ContentCacheTest, MismatchLeavesNoFileAndOthersFinish) {
  FakeClient client;
  client.put("http://m/good.deb", "good");
  client.put("http://m/bad.deb", "tampered");
  FetchItem bad = item("bad", "original", {"http://m/bad.deb"});
  bad.size = 0;  // unknown size: the digest alone catches it
  std::vector<FetchItem> items = {bad, item("good", "good", {"http://m/good.deb"})};
  Status status = m_cache->fetch_all(client, items, 1);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(status.error().message, "bad: http://m/bad.deb: sha256 mismatch (expected " +
                                        crypto::sha256("original").hex() + ", got " +
                                        crypto::sha256("tampered").hex() + ")");
  EXPECT_FALSE(m_cache->contains(bad.sha256));
  EXPECT_FALSE(m_cache->contains(crypto::sha256("tampered")));
  EXPECT_TRUE(m_cache->contains(crypto::sha256("good")));
  EXPECT_TRUE(tmp_is_empty());
}

TEST_F(ContentCacheTest, SizeMismatchIsCorrupt) {
  FakeClient client;
  client.put("http://m/long", "longer than announced");
  client.put("http://m/short", "short");
  FetchItem too_long = item("long", "longer than announced", {"http://m/long"});
  too_long.size = 5;
  FetchItem too_short = item("short", "short", {"http://m/short"});
  too_short.size = 50;
  Status status = m_cache->fetch_all(client, {too_long, too_short}, 2);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(status.error().message.rfind("long: http://m/long: size mismatch", 0), 0U)
      << status.error().message;
  EXPECT_FALSE(m_cache->contains(too_long.sha256));
  EXPECT_FALSE(m_cache->contains(too_short.sha256));
  EXPECT_TRUE(tmp_is_empty());
}

TEST_F(ContentCacheTest, RetryPathResetsHashAndFile) {
  FakeClient client;
  std::string body(10000, 'r');
  body[9999] = 'z';
  client.put("http://m/r.deb", body);
  client.flaky("http://m/r.deb");
  FetchItem it = item("r", body, {"http://m/r.deb"});
  std::vector<FetchProgress> reports;
  ASSERT_TRUE(
      m_cache->fetch_all(client, {it}, 1, [&](const FetchProgress& p) { reports.push_back(p); })
          .ok());
  auto data = util::read_file(m_cache->path_for(it.sha256));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, body);
  EXPECT_EQ(reports.back().bytes_done, body.size());
}

// A tap sees the bytes as they arrive; after a restart only what follows counts.
class RecordingTap final : public FetchTap {
 public:
  void restart() override {
    ++restarts;
    seen.clear();
  }
  void write(std::string_view data) override { seen.append(data); }
  std::string seen;
  int restarts = 0;
};

TEST_F(ContentCacheTest, TapSeesTheBytesAndEveryRestart) {
  FakeClient client;
  std::string body(10000, 't');
  body[5000] = 'u';
  client.put("http://m/t.gz", body);
  client.flaky("http://m/t.gz");
  RecordingTap tap;
  FetchItem it = item("t", body, {"http://m/missing.gz", "http://m/t.gz"});
  it.tap = &tap;
  ASSERT_TRUE(m_cache->fetch_all(client, {it}, 1).ok());
  EXPECT_EQ(tap.seen, body);
  // One restart per URL tried, and one for the transfer that broke off.
  EXPECT_EQ(tap.restarts, 3);

  // An item already in the cache is not transferred: the tap sees nothing.
  RecordingTap idle;
  it.tap = &idle;
  ASSERT_TRUE(m_cache->fetch_all(client, {it}, 1).ok());
  EXPECT_EQ(idle.seen, "");
  EXPECT_EQ(idle.restarts, 0);
}

TEST_F(ContentCacheTest, AlternativeUrlsTriedInOrder) {
  FakeClient client;
  client.put("http://mirror2/x.deb", "x content");
  FetchItem it = item("x", "x content", {"http://mirror1/x.deb", "http://mirror2/x.deb"});
  ASSERT_TRUE(m_cache->fetch_all(client, {it}, 1).ok());
  EXPECT_TRUE(m_cache->contains(it.sha256));
  EXPECT_EQ(client.calls("http://mirror1/x.deb"), 1);
}

TEST_F(ContentCacheTest, AllUrlsFailingReportsFirstErrorWithLabel) {
  FakeClient client;
  FetchItem it = item("libfoo", "x", {"http://m1/x.deb", "http://m2/x.deb"});
  Status status = m_cache->fetch_all(client, {it}, 1);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(status.error().message, "libfoo: GET http://m1/x.deb: HTTP 404");
}

TEST_F(ContentCacheTest, DuplicateDigestsDownloadOnce) {
  FakeClient client;
  client.put("http://m/d", "same");
  std::vector<FetchItem> items = {item("d1", "same", {"http://m/d"}),
                                  item("d2", "same", {"http://m/d"})};
  ASSERT_TRUE(m_cache->fetch_all(client, items, 2).ok());
  EXPECT_EQ(client.calls("http://m/d"), 1);
}

TEST_F(ContentCacheTest, ManyItemsInParallel) {
  FakeClient client;
  std::vector<FetchItem> items;
  for (int i = 0; i < 40; ++i) {
    std::string body = "item " + std::to_string(i) + std::string(static_cast<size_t>(i) * 50, 'p');
    std::string url = "http://m/" + std::to_string(i);
    client.put(url, body);
    items.push_back(item("i" + std::to_string(i), body, {url}));
  }
  ASSERT_TRUE(m_cache->fetch_all(client, items, 4).ok());
  for (const auto& it : items) {
    EXPECT_TRUE(m_cache->contains(it.sha256));
  }
}

TEST_F(ContentCacheTest, ItemWithoutUrlOrDigestIsInvalid) {
  FakeClient client;
  FetchItem no_url = item("nourl", "x", {});
  Status status = m_cache->fetch_all(client, {no_url}, 1);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(status.error().message.find("nourl"), std::string::npos);
}

TEST_F(ContentCacheTest, RealCurlThroughTruncatingServer) {
  std::filesystem::path root = m_dir->path() / "www";
  std::filesystem::create_directories(root / "pool");
  std::string body(200000, 'd');
  for (size_t i = 0; i < body.size(); i += 13) {
    body[i] = static_cast<char>(i % 251);
  }
  ASSERT_TRUE(util::write_file_atomic(root / "pool" / "d.deb", body).ok());
  ASSERT_TRUE(util::write_file_atomic(root / "pool" / "e.deb", "not what was promised").ok());
  testing::TestServer server;
  if (!server.start(root, {"--truncate", "d\\.deb$:4096:1", "--fail500", "d\\.deb$:1"})) {
    GTEST_SKIP() << "python3 test server unavailable";
  }
  TransferOptions options;
  options.initial_backoff = std::chrono::milliseconds(1);
  auto client = make_curl_client(options);
  FetchItem d = item("d", body, {server.url("/pool/d.deb")});
  FetchItem e = item("e", "promised", {server.url("/pool/e.deb")});
  Status status = m_cache->fetch_all(*client, {d, e}, 2);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(status.error().message.rfind("e: " + server.url("/pool/e.deb") + ": size mismatch", 0),
            0U)
      << status.error().message;
  EXPECT_TRUE(m_cache->contains(d.sha256));
  EXPECT_FALSE(m_cache->contains(e.sha256));
  EXPECT_TRUE(tmp_is_empty());
}

TEST(DefaultCacheDir, PrefersXdgCacheHome) {
  const char* old_xdg = std::getenv("XDG_CACHE_HOME");
  std::string saved = old_xdg != nullptr ? old_xdg : "";
  ::setenv("XDG_CACHE_HOME", "/somewhere/cache", 1);
  EXPECT_EQ(default_cache_dir(), std::filesystem::path("/somewhere/cache/distill"));
  ::unsetenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    EXPECT_EQ(default_cache_dir(), std::filesystem::path(home) / ".cache" / "distill");
  }
  if (old_xdg != nullptr) {
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  }
}

}  // namespace
}  // namespace distill::net
