#include <gtest/gtest.h>
#include <lzma.h>

#include <string>

#include "../support/gzip_data.hpp"
#include "../support/xz_data.hpp"
#include "archive/byte_sink.hpp"
#include "archive/stream_decompressor.hpp"

namespace distill::archive {
namespace {

std::string text(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) {
    s += "Package: pkg" + std::to_string(i) + "\nVersion: 1." + std::to_string(i % 97) + "\n\n";
  }
  s.resize(n);
  return s;
}

std::string gzip(const std::string& data) { return test::gzip_of(data); }

std::string xz(const std::string& in) { return test::xz_of(in); }

// Feeds `data` in pieces of `step` bytes; returns what came out, or the error.
Result<std::string> stream(const std::string& data, size_t step,
                           Checksums checksums = Checksums::Verify) {
  std::string out;
  StringSink sink(out);
  StreamDecompressor d(sink, "http://127.0.0.1/Packages.gz", checksums);
  for (size_t off = 0; off < data.size(); off += step) {
    DISTILL_CHECK(d.write(data.data() + off, std::min(step, data.size() - off)));
  }
  DISTILL_CHECK(d.finish());
  return out;
}

TEST(StreamDecompressor, GzipInAnyPiecesGivesTheText) {
  std::string original = text(700000);
  std::string packed = gzip(original);
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, packed.size()}) {
    auto out = stream(step == 1 ? gzip(text(3000)) : packed, step);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, step == 1 ? text(3000) : original) << "step " << step;
  }
}

TEST(StreamDecompressor, GzipMembersFollowOneAnother) {
  std::string a = text(100000);
  std::string b = "Package: last\n\n";
  auto out = stream(gzip(a) + gzip(b), 1000);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, a + b);
}

TEST(StreamDecompressor, XzInAnyPiecesGivesTheText) {
  std::string original = text(500000);
  std::string packed = xz(original);
  for (size_t step : {size_t{3}, size_t{65536}, packed.size()}) {
    auto out = stream(packed, step);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, original) << "step " << step;
  }
}

TEST(StreamDecompressor, PlainTextPassesThrough) {
  auto out = stream("Package: a\n\n", 5);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "Package: a\n\n");
  auto tiny = stream("ab", 1);  // shorter than any magic
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(*tiny, "ab");
  auto empty = stream("", 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(StreamDecompressor, TruncatedOrDamagedStreamsAreErrorsNamingTheOrigin) {
  std::string gz = gzip(text(200000));
  std::string x = xz(text(200000));
  for (const std::string& bad : {gz.substr(0, gz.size() / 2), gz.substr(0, gz.size() - 3),
                                 x.substr(0, x.size() / 2), gz + "trailing garbage"}) {
    auto out = stream(bad, 4096);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::Corrupt) << out.error().message;
    EXPECT_NE(out.error().message.find("http://127.0.0.1/Packages.gz"), std::string::npos);
  }
  std::string flipped = gz;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
  EXPECT_FALSE(stream(flipped, 4096).ok());
}

// Checksums::Skip leaves the CRC-32 (and ISIZE) of every gzip member
// unchecked, for a stream whose bytes are hashed elsewhere; the structure is
// still checked, and Verify (the default) refuses the same stream.
TEST(StreamDecompressor, SkippedChecksumsAreNotComputed) {
  const std::string a = text(150000);
  const std::string b = text(70000);
  std::string first = gzip(a);
  std::string second = gzip(b);
  for (std::string* member : {&first, &second}) {
    (*member)[member->size() - 8] = static_cast<char>((*member)[member->size() - 8] ^ 0xff);
  }
  const std::string damaged = first + second;
  auto skipped = stream(damaged, 4096, Checksums::Skip);
  ASSERT_TRUE(skipped.ok()) << skipped.error().message;
  EXPECT_EQ(*skipped, a + b);
  auto verified = stream(damaged, 4096);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().kind, ErrorKind::Corrupt);
  // A truncated stream is still an error, and xz decodes the same either way.
  EXPECT_FALSE(stream(first.substr(0, first.size() / 2), 4096, Checksums::Skip).ok());
  auto x = stream(xz(a), 1000, Checksums::Skip);
  ASSERT_TRUE(x.ok()) << x.error().message;
  EXPECT_EQ(*x, a);
}

TEST(StreamDecompressor, WriteAfterFinishIsAnError) {
  std::string out;
  StringSink sink(out);
  StreamDecompressor d(sink, "x");
  ASSERT_TRUE(d.finish().ok());
  EXPECT_TRUE(d.finish().ok());
  EXPECT_FALSE(d.write("a", 1).ok());
}

}  // namespace
}  // namespace distill::archive
