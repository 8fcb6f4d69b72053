// The xz block reader (archive/xz_block_reader.hpp): a stream of several blocks
// comes back byte for byte in order, whichever thread decoded each block; a
// damaged block is an error naming it; streams it does not take (one block,
// padding, two streams, a damaged index) are left to the sequential decoder.
#include <gtest/gtest.h>
#include <lzma.h>

#include <string>
#include <utility>

#include "../support/xz_data.hpp"
#include "archive/xz_block_reader.hpp"

namespace distill::archive::detail {
namespace {

// `size` bytes that compress somewhat (as a tar does).
std::string sample(size_t size, unsigned seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761U + 1;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245U + 12345U;
    out[i] = static_cast<char>(i % 7 == 0 ? (x >> 16) : 'a' + (i / 64) % 26);
  }
  return out;
}

using test::xz_blocks_of;

Result<std::string> read_all(std::string_view xz) {
  auto layout = xz_blocks(xz);
  if (!layout) {
    return make_error(ErrorKind::InvalidInput, "not taken");
  }
  XzBlockReader reader(xz, std::move(*layout), false);
  std::string out;
  for (;;) {
    DISTILL_TRY(std::string_view piece, reader.next());
    if (piece.empty()) {
      return out;
    }
    out.append(piece);
  }
}

TEST(XzBlockReader, EveryBlockComesBackInOrder) {
  const uint64_t block = 256 * 1024;
  for (size_t blocks : {2, 3, 4, 7}) {
    std::string data = sample(block * (blocks - 1) + 1000 * blocks, static_cast<unsigned>(blocks));
    std::string xz = xz_blocks_of(data, block);
    auto layout = xz_blocks(xz);
    ASSERT_TRUE(layout) << blocks;
    EXPECT_EQ(layout->blocks.size(), blocks);
    auto back = read_all(xz);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == data) << blocks << " blocks: " << back->size() << " of " << data.size();
  }
}

TEST(XzBlockReader, DamageNamesTheBlock) {
  const uint64_t block = 256 * 1024;
  std::string data = sample(block * 4, 5);
  std::string xz = xz_blocks_of(data, block);
  auto layout = xz_blocks(xz);
  ASSERT_TRUE(layout);
  ASSERT_EQ(layout->blocks.size(), 4U);
  // A byte in the middle of the second block (decoded by the helper), then
  // of the third (decoded by the reader itself).
  for (size_t damaged : {1, 2}) {
    const XzBlock& at = layout->blocks[damaged];
    std::string bad = xz;
    bad[at.offset + at.unpadded / 2] ^= 0x40;
    auto back = read_all(bad);
    ASSERT_FALSE(back.ok()) << damaged;
    EXPECT_NE(back.error().message.find("xz block " + std::to_string(damaged + 1)),
              std::string::npos)
        << back.error().message;
    EXPECT_EQ(back.error().kind, ErrorKind::Corrupt);
  }
}

TEST(XzBlockReader, StreamsItDoesNotTakeAreLeftToTheSequentialDecoder) {
  const uint64_t block = 128 * 1024;
  std::string data = sample(block * 3, 7);
  std::string xz = xz_blocks_of(data, block);
  ASSERT_TRUE(xz_blocks(xz));
  EXPECT_FALSE(xz_blocks(xz_blocks_of(sample(1000, 1), block)));  // one block
  EXPECT_FALSE(xz_blocks(xz + std::string(4, '\0')));             // stream padding
  EXPECT_FALSE(xz_blocks(xz + xz));  // two streams: the index covers only the last one
  EXPECT_FALSE(xz_blocks(xz.substr(0, xz.size() - 1)));
  EXPECT_FALSE(
      xz_blocks(std::string_view("\xfd"
                                 "7zXZ",
                                 5)));
  std::string bad_index = xz;
  bad_index[bad_index.size() - 20] ^= 0x01;  // inside the index (its CRC32 then fails)
  EXPECT_FALSE(xz_blocks(bad_index));
}

TEST(XzBlockReader, StoppingEarlyJoinsTheHelper) {
  const uint64_t block = 256 * 1024;
  std::string data = sample(block * 6, 9);
  std::string xz = xz_blocks_of(data, block);
  for (int pieces = 0; pieces < 4; ++pieces) {
    auto layout = xz_blocks(xz);
    ASSERT_TRUE(layout);
    XzBlockReader reader(xz, std::move(*layout), false);
    for (int i = 0; i < pieces; ++i) {
      auto piece = reader.next();
      ASSERT_TRUE(piece.ok());
      ASSERT_FALSE(piece->empty());
    }
  }  // each reader destroyed with its helper waiting or decoding
}

// start() takes streams of k_min_blocks or more, one at a time in a process.
TEST(XzBlockReader, StartTakesBigStreamsOneAtATime) {
  const uint64_t block = 64 * 1024;
  std::string three = xz_blocks_of(sample(block * 3, 11), block);
  std::string four = xz_blocks_of(sample(block * 4, 12), block);
  ASSERT_EQ(xz_blocks(three)->blocks.size(), 3U);
  ASSERT_EQ(xz_blocks(four)->blocks.size(), XzBlockReader::k_min_blocks);
  EXPECT_EQ(XzBlockReader::start(three, false), nullptr);
  auto first = XzBlockReader::start(four, false);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(XzBlockReader::start(four, false), nullptr);  // the first one runs
  first.reset();
  EXPECT_NE(XzBlockReader::start(four, false), nullptr);
}

// xz -6 (an 8 MiB dictionary) in one block, as dpkg-deb writes a package
// under 24 MiB.
std::string one_block_of(const std::string& data) { return test::xz_of(data, 6); }

// What XzOneBlock::open() says of `xz`, its blocks found as the tar reader does.
uint32_t open_one(XzOneBlock& block, std::string_view xz) {
  return block.open(xz, xz_blocks(xz, 1));
}
uint32_t open_one(std::string_view xz) {
  XzOneBlock block;
  return open_one(block, xz);
}

// What `decoder` gives from where it was started, and liblzma's last word.
std::pair<std::string, lzma_ret> drain(lzma_stream& decoder) {
  std::string out;
  std::string piece(size_t{64} << 10, '\0');
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    decoder.next_out = reinterpret_cast<uint8_t*>(piece.data());
    decoder.avail_out = piece.size();
    r = lzma_code(&decoder, LZMA_FINISH);
    out.append(piece.data(), piece.size() - decoder.avail_out);
  }
  return {out, r};
}

TEST(XzOneBlock, TheDictionaryIsThePowerOfTwoThatHoldsTheBlockCappedAtTheWrittenOne) {
  constexpr uint32_t k8 = uint32_t{8} << 20;
  EXPECT_EQ(block_dictionary(10 << 10, k8, 0), k_min_dictionary);
  EXPECT_EQ(block_dictionary(k_min_dictionary, k8, 0), k_min_dictionary);
  EXPECT_EQ(block_dictionary(k_min_dictionary + 1, k8, 0), 2 * k_min_dictionary);
  EXPECT_EQ(block_dictionary(2344960, k8, 0), uint32_t{4} << 20);  // tzdata
  EXPECT_EQ(block_dictionary(5939200, k8, 0), k8);                 // libssl3
  EXPECT_EQ(block_dictionary(13035520, k8, 0), k8);                // libc6: never above
  EXPECT_EQ(block_dictionary(13035520, 1 << 20, 0), 1U << 20);     // xz -0's 1 MiB
  EXPECT_EQ(block_dictionary(100, 4096, 0), 4096U);
  EXPECT_EQ(block_dictionary(100, 1000, 0), uint32_t{LZMA_DICT_SIZE_MIN});
  // A kept dictionary that holds it is kept; a smaller one is replaced.
  EXPECT_EQ(block_dictionary(10 << 10, k8, k8), k8);
  EXPECT_EQ(block_dictionary(2344960, k8, 1 << 20), uint32_t{4} << 20);
}

TEST(XzOneBlock, DecodesByteForByteWithTheSmallerDictionary) {
  std::string data = sample(300 * 1024, 3);
  std::string xz = one_block_of(data);
  for (uint32_t kept : {0U, uint32_t{8} << 20}) {
    XzOneBlock block;
    ASSERT_EQ(open_one(block, xz), 2 * k_min_dictionary);
    lzma_stream decoder = LZMA_STREAM_INIT;
    ASSERT_EQ(block.start(&decoder, kept), kept == 0 ? 2 * k_min_dictionary : kept);
    auto [out, r] = drain(decoder);
    lzma_end(&decoder);
    EXPECT_EQ(r, LZMA_STREAM_END);
    EXPECT_EQ(out, data);
  }
}

TEST(XzOneBlock, ADamagedBlockIsAnErrorNotOtherBytes) {
  std::string data = sample(200 * 1024, 5);
  std::string xz = one_block_of(data);
  size_t damaged = 0;
  for (size_t at : {size_t{40}, xz.size() / 2, xz.size() - 40}) {  // early, middle, check
    std::string bad = xz;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    XzOneBlock block;
    if (open_one(block, bad) == 0) {
      continue;  // the index or footer: left to the sequential decoder
    }
    lzma_stream decoder = LZMA_STREAM_INIT;
    ASSERT_NE(block.start(&decoder, 0), 0U);
    auto [out, r] = drain(decoder);
    lzma_end(&decoder);
    EXPECT_NE(r, LZMA_STREAM_END) << "damage at " << at;
    ++damaged;
  }
  EXPECT_GE(damaged, 2U);
}

TEST(XzOneBlock, StreamsOfSeveralBlocksPaddingOrTwoStreamsAreNotOpened) {
  std::string one = one_block_of(sample(50 * 1024, 1));
  EXPECT_NE(open_one(one), 0U);
  EXPECT_EQ(open_one(xz_blocks_of(sample(3 * 64 * 1024, 2), 64 * 1024)), 0U);
  EXPECT_EQ(open_one(one + std::string(4, '\0')), 0U);
  EXPECT_EQ(open_one(one + one), 0U);
  EXPECT_EQ(open_one(one.substr(0, one.size() - 1)), 0U);
  EXPECT_EQ(open_one("not xz at all"), 0U);
}

}  // namespace
}  // namespace distill::archive::detail
