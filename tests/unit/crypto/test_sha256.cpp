#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "crypto/sha256.hpp"

namespace distill::crypto {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256("").str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, StreamingEqualsOneShot) {
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish(), sha256("abc"));
  h.update("abc");  // reusable after finish
  EXPECT_EQ(h.finish(), sha256("abc"));
}

// FIPS 180-2's long message, fed in pieces of sizes that straddle the 64-byte
// blocks; reset() drops what was fed before.
TEST(Sha256, MillionAInUnevenPiecesAndReset) {
  Sha256 h;
  h.update("discarded");
  h.reset();
  const std::string piece(997, 'a');
  size_t fed = 0;
  while (fed < 1000000) {
    size_t n = std::min(piece.size() - fed % 13, size_t{1000000} - fed);
    h.update(piece.data(), n);
    fed += n;
  }
  EXPECT_EQ(h.finish().hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256(std::string(1000000, 'a')).hex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Md5, KnownVector) { EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72"); }

TEST(Sha1, KnownVectorsAndStreaming) {
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  Sha1 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Digest, ParseRejectsBadInput) {
  EXPECT_FALSE(Digest::parse("sha256:xyz").ok());
  EXPECT_FALSE(Digest::parse("md5:900150983cd24fb0d6963f7d28e17f72").ok());
  auto d = Digest::parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hex().size(), 64U);
}

}  // namespace
}  // namespace distill::crypto
