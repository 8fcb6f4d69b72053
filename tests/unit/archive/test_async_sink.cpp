#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "archive/async_sink.hpp"
#include "archive/byte_sink.hpp"

namespace distill::archive {
namespace {

// A downstream sink that records what it gets, can be slow, and can fail after
// a number of bytes.
class Recorder final : public ByteSink {
 public:
  Status write(const void* data, size_t size) override {
    if (slow) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (fail_after >= 0 && static_cast<long>(got.size() + size) > fail_after) {
      return make_error(ErrorKind::Corrupt, "Packages: stanza 3: no Package field");
    }
    got.append(static_cast<const char*>(data), size);
    ++writes;
    return {};
  }
  using ByteSink::write;
  Status finish() override {
    ++finishes;
    return {};
  }
  std::string got;
  int writes = 0;
  int finishes = 0;
  bool slow = false;
  long fail_after = -1;
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  }
  return s;
}

TEST(AsyncSink, DeliversEveryByteInOrderAndFinishesOnce) {
  Recorder down;
  down.slow = true;
  std::string data = pattern(300000);
  {
    AsyncSink sink(down, 4096, 2);
    // Writes of odd sizes, across chunk boundaries.
    size_t off = 0;
    for (size_t step = 1; off < data.size(); step = step * 3 % 9973 + 1) {
      size_t n = std::min(step, data.size() - off);
      ASSERT_TRUE(sink.write(data.data() + off, n).ok());
      off += n;
    }
    ASSERT_TRUE(sink.finish().ok());
    EXPECT_TRUE(sink.finish().ok());  // idempotent
    EXPECT_FALSE(sink.write("x", 1).ok());
  }
  EXPECT_EQ(down.got, data);
  EXPECT_EQ(down.finishes, 1);
  EXPECT_GT(down.writes, 70);  // chunked, not one write
}

TEST(AsyncSink, EmptyStreamFinishesDownstream) {
  Recorder down;
  AsyncSink sink(down);
  ASSERT_TRUE(sink.finish().ok());
  EXPECT_EQ(down.got, "");
  EXPECT_EQ(down.finishes, 1);
}

TEST(AsyncSink, DownstreamErrorReachesTheProducerAndNothingIsFinished) {
  Recorder down;
  down.fail_after = 10000;
  AsyncSink sink(down, 1024, 2);
  std::string data = pattern(1 << 20);
  Status last;
  for (size_t off = 0; off < data.size() && last.ok(); off += 512) {
    last = sink.write(data.data() + off, 512);
  }
  Status finished = sink.finish();
  // The error shows up in write() or, at the latest, in finish(), unchanged.
  Status seen = last.ok() ? finished : last;
  ASSERT_FALSE(seen.ok());
  EXPECT_NE(seen.error().message.find("stanza 3"), std::string::npos);
  EXPECT_FALSE(finished.ok());
  EXPECT_EQ(down.finishes, 0);
  EXPECT_LE(down.got.size(), 10000U);
  EXPECT_EQ(down.got, data.substr(0, down.got.size()));
}

TEST(AsyncSink, AbandonedWithoutFinishJoinsAndDoesNotFinishDownstream) {
  Recorder down;
  down.slow = true;
  {
    AsyncSink sink(down, 100, 3);
    std::string data = pattern(5000);
    ASSERT_TRUE(sink.write(data).ok());
  }
  EXPECT_EQ(down.finishes, 0);
}

}  // namespace
}  // namespace distill::archive
