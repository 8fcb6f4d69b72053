// Test data in xz: what xz -PRESET writes, one stream of one block with a
// CRC64 (as dpkg-deb writes a package under 24 MiB, and Debian its
// Packages.xz).
#pragma once

#include <gtest/gtest.h>
#include <lzma.h>

#include <cstdint>
#include <string>

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

}  // namespace distill::test
