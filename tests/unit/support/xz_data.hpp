// Test data in xz: what xz -PRESET writes, one stream of one block with a
// CRC64 (as dpkg-deb writes a package under 24 MiB, and Debian its
// Packages.xz); a stream of several blocks, as dpkg-deb writes bigger ones;
// and damage to the blocks' checks.
#pragma once

#include <gtest/gtest.h>
#include <lzma.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "archive/xz_block_reader.hpp"

namespace distill::test {

inline std::string xz_of(const std::string& data, uint32_t preset = 6) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  size_t n = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(preset, LZMA_CHECK_CRC64, nullptr,
                                    reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                                    reinterpret_cast<uint8_t*>(out.data()), &n, out.size()),
            LZMA_OK);
  out.resize(n);
  return out;
}

// xz with blocks of `block_size` bytes, sizes in the headers, CRC64: what
// dpkg-deb's multithreaded xz writes.
inline std::string xz_blocks_of(const std::string& data, uint64_t block_size) {
  lzma_mt mt{};
  mt.threads = 1;
  mt.block_size = block_size;
  mt.preset = 1;
  mt.check = LZMA_CHECK_CRC64;
  lzma_stream strm = LZMA_STREAM_INIT;
  EXPECT_EQ(lzma_stream_encoder_mt(&strm, &mt), LZMA_OK);
  std::string out(data.size() + data.size() / 2 + 4096, '\0');
  strm.next_in = reinterpret_cast<const uint8_t*>(data.data());
  strm.avail_in = data.size();
  strm.next_out = reinterpret_cast<uint8_t*>(out.data());
  strm.avail_out = out.size();
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    r = lzma_code(&strm, LZMA_FINISH);
  }
  EXPECT_EQ(r, LZMA_STREAM_END);
  out.resize(strm.total_out);
  lzma_end(&strm);
  return out;
}

// Flips the last byte of the check (CRC64) of every block of `layout`, the
// blocks of an xz stream that starts at `at` in `bytes`.
inline void damage_block_checks(std::string& bytes, size_t at,
                                const archive::detail::XzBlocks& layout) {
  for (const auto& block : layout.blocks) {
    char& last = bytes[at + block.offset + block.unpadded - 1];
    last = static_cast<char>(last ^ 0x01);
  }
}

}  // namespace distill::test
