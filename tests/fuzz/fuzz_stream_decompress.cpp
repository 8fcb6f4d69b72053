// libFuzzer target: StreamDecompressor on arbitrary bytes, fed in pieces whose
// size the first input byte picks (it sees downloads before they are
// verified). Whenever both it and the whole-buffer decompress() accept the
// input, they must agree on the output.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "archive/stream_decompressor.hpp"

namespace {

// Keeps what it gets, up to a limit (a small input may inflate enormously).
class CappedSink final : public distill::archive::ByteSink {
 public:
  distill::Status write(const void* data, size_t size) override {
    if (out.size() + size > k_limit) {
      return distill::make_error(distill::ErrorKind::Corrupt, "too big");
    }
    out.append(static_cast<const char*>(data), size);
    return {};
  }
  using ByteSink::write;
  distill::Status finish() override { return {}; }
  static constexpr size_t k_limit = size_t{8} << 20;
  std::string out;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  size_t step = 1 + data[0] % 64 * 97;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  CappedSink sink;
  distill::Status status;
  {
    distill::archive::StreamDecompressor decoder(sink, "fuzz");
    for (size_t off = 0; off < bytes.size() && status.ok(); off += step) {
      status = decoder.write(bytes.data() + off, std::min(step, bytes.size() - off));
    }
    if (status.ok()) {
      status = decoder.finish();
    }
  }
  if (!status.ok() || sink.out.size() >= CappedSink::k_limit / 2) {
    return 0;
  }
  auto whole = distill::archive::decompress(bytes, "fuzz");
  if (whole.ok() && *whole != sink.out) {
    std::abort();
  }
  return 0;
}
