// libFuzzer target: the xz block reader (archive/xz_block_reader.hpp), which
// reads a .deb's data.tar.xz by its index. An input that starts with the xz
// magic is taken as it is; any other input damages a valid stream of four
// blocks made at start-up, three bytes per change (offset low, offset high,
// the bits to flip), so that the fuzzer reaches the index and the block
// headers; inputs of an odd size damage a stream of one block instead, for
// the one-block decoder (XzOneBlock). Each must accept what the sequential
// decoder accepts, and nothing else, and give the same bytes.
#include <lzma.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "archive/xz_block_reader.hpp"

namespace {

constexpr size_t k_limit = size_t{8} << 20;

std::string lines() {
  std::string data;
  for (int i = 0; i < 16000; ++i) {
    data += "line " + std::to_string(i * 7919 % 1000) + "\n";
  }
  return data;
}

std::string one_block() {
  std::string data = lines();
  std::string out(data.size() + 4096, '\0');
  size_t n = 0;
  if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr,
                              reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                              reinterpret_cast<uint8_t*>(out.data()), &n, out.size()) != LZMA_OK) {
    std::abort();
  }
  out.resize(n);
  return out;
}

// The one-block decoder's bytes; false when it does not take `input` or
// liblzma finds damage.
bool one_block_decode(const std::string& input, std::string& out, bool& taken) {
  distill::archive::detail::XzOneBlock block;
  taken = block.open(input, distill::archive::detail::xz_blocks(input, 1)) != 0;
  if (!taken) {
    return false;
  }
  lzma_stream strm = LZMA_STREAM_INIT;
  if (block.start(&strm, 0) == 0) {
    lzma_end(&strm);
    return false;
  }
  std::string piece(size_t{64} << 10, '\0');
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK && out.size() <= k_limit) {
    strm.next_out = reinterpret_cast<uint8_t*>(piece.data());
    strm.avail_out = piece.size();
    r = lzma_code(&strm, LZMA_FINISH);
    out.append(piece.data(), piece.size() - strm.avail_out);
  }
  lzma_end(&strm);
  return r == LZMA_STREAM_END;
}

std::string four_blocks() {
  std::string data = lines();
  lzma_mt mt{};
  mt.threads = 1;
  mt.block_size = data.size() / 4 + 1;
  mt.preset = 0;
  mt.check = LZMA_CHECK_CRC64;
  lzma_stream strm = LZMA_STREAM_INIT;
  if (lzma_stream_encoder_mt(&strm, &mt) != LZMA_OK) {
    std::abort();
  }
  std::string out(data.size() + 4096, '\0');
  strm.next_in = reinterpret_cast<const uint8_t*>(data.data());
  strm.avail_in = data.size();
  strm.next_out = reinterpret_cast<uint8_t*>(out.data());
  strm.avail_out = out.size();
  while (lzma_code(&strm, LZMA_FINISH) == LZMA_OK) {
  }
  out.resize(strm.total_out);
  lzma_end(&strm);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string base = four_blocks();
  static const std::string single = one_block();
  std::string input;
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  if (raw.substr(0, 6) == std::string_view("\xfd"
                                           "7zXZ\0",
                                           6)) {
    input.assign(raw);
  } else {
    input = size % 2 == 1 ? single : base;
    for (size_t i = 0; i + 2 < size; i += 3) {
      size_t at = (data[i] | (size_t{data[i + 1]} << 8)) % input.size();
      input[at] = static_cast<char>(input[at] ^ data[i + 2]);
    }
  }
  {
    std::string out;
    bool taken = false;
    bool ok = one_block_decode(input, out, taken);
    if (taken && out.size() <= k_limit) {
      auto whole = distill::archive::decompress(input, "fuzz");
      if (ok != whole.ok() || (ok && *whole != out)) {
        std::abort();
      }
    }
  }
  auto layout = distill::archive::detail::xz_blocks(input);
  if (!layout) {
    return 0;
  }
  std::string blocks;
  bool ok = true;
  {
    distill::archive::detail::XzBlockReader reader(input, std::move(*layout), false);
    for (;;) {
      auto piece = reader.next();
      if (!piece.ok()) {
        ok = false;
        break;
      }
      if (piece->empty()) {
        break;
      }
      blocks.append(*piece);
      if (blocks.size() > k_limit) {
        return 0;
      }
    }
  }
  // The same verdict and the same bytes as the sequential decoder.
  auto whole = distill::archive::decompress(input, "fuzz");
  if (ok != whole.ok() || (ok && *whole != blocks)) {
    std::abort();
  }
  return 0;
}
