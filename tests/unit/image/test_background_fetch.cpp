#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "image/background_fetch.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

// Serves bodies from a map; a URL in `gate` is held back until open() is called.
class GatedClient final : public net::HttpClient {
 public:
  Result<net::HttpResponse> send(const net::HttpRequest& request) override {
    net::HttpResponse response;
    response.status = m_bodies.count(request.url) != 0 ? 200 : 404;
    return response;
  }
  Result<net::HttpResponse> download(const net::HttpRequest& request,
                                     const std::function<Status(std::string_view)>& sink,
                                     const std::function<void()>& /*sink_reset*/,
                                     const net::ProgressFn& /*progress*/) override {
    auto it = m_bodies.find(request.url);
    if (it == m_bodies.end()) {
      return make_error(ErrorKind::NotFound, "GET " + request.url + ": HTTP 404");
    }
    if (request.url == m_gate) {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_opened.wait(lock, [&] { return m_open; });
    }
    DISTILL_CHECK(sink(it->second));
    net::HttpResponse response;
    response.status = 200;
    return response;
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_open = true;
    }
    m_opened.notify_all();
  }
  std::map<std::string, std::string> m_bodies;
  std::string m_gate;

 private:
  std::mutex m_mutex;
  std::condition_variable m_opened;
  bool m_open = false;
};

class BackgroundFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-bgfetch-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    auto cache = net::ContentCache::open(m_dir->path());
    ASSERT_TRUE(cache.ok());
    m_cache = std::make_unique<net::ContentCache>(std::move(*cache));
  }
  net::FetchItem serve(const std::string& name, const std::string& body,
                       const std::string& served = "") {
    std::string url = "http://127.0.0.1/pool/" + name + ".deb";
    m_client.m_bodies[url] = served.empty() ? body : served;
    return {{url}, crypto::sha256(body), body.size(), name};
  }
  std::unique_ptr<util::TempDir> m_dir;
  std::unique_ptr<net::ContentCache> m_cache;
  GatedClient m_client;
};

TEST_F(BackgroundFetchTest, EachItemCanBeAwaitedOnItsOwn) {
  auto early = serve("libc6", "early bytes");
  auto late = serve("openjdk", "late bytes");
  m_client.m_gate = late.urls[0];
  BackgroundFetch fetch(*m_cache, m_client, {early, late}, 2);
  EXPECT_TRUE(fetch.covers(early.sha256));
  EXPECT_FALSE(fetch.covers(crypto::sha256("something else")));
  // The early package is usable while the late one is still held back.
  ASSERT_TRUE(fetch.wait(early.sha256).ok());
  EXPECT_TRUE(m_cache->contains(early.sha256));
  EXPECT_FALSE(m_cache->contains(late.sha256));
  std::atomic<bool> got_late{false};
  std::thread waiter([&] { got_late = fetch.wait(late.sha256).ok(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got_late.load());
  m_client.open();
  waiter.join();
  EXPECT_TRUE(got_late.load());
  EXPECT_TRUE(m_cache->contains(late.sha256));
}

TEST_F(BackgroundFetchTest, AFailedItemGivesItsOwnErrorAndTheOthersStillArrive) {
  auto good = serve("good", "good bytes");
  auto bad = serve("tampered", "the bytes Packages promised", "other bytes");
  BackgroundFetch fetch(*m_cache, m_client, {bad, good}, 1);
  Status failed = fetch.wait(bad.sha256);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(failed.error().message.find("tampered"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find(bad.urls[0]), std::string::npos);
  EXPECT_TRUE(fetch.wait(good.sha256).ok());
  EXPECT_FALSE(m_cache->contains(bad.sha256));
}

TEST_F(BackgroundFetchTest, DestroyingItWaitsForTheTransfers) {
  auto late = serve("late", "late bytes");
  m_client.m_gate = late.urls[0];
  std::thread opener;
  {
    BackgroundFetch fetch(*m_cache, m_client, {late}, 1);
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      m_client.open();
    });
  }
  opener.join();
  EXPECT_TRUE(m_cache->contains(late.sha256));  // finished, not abandoned half-written
  EXPECT_TRUE(std::filesystem::is_empty(m_cache->dir() / "tmp"));
}

}  // namespace
}  // namespace distill::image
