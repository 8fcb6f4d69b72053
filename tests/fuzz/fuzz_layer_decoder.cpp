// libFuzzer target: LayerDecoder on arbitrary bytes as a layer's blob file (it
// reads blobs of images pulled from registries before anything is checked).
// Whatever it hands out before its end must hash to the digest it reports, with
// the hash taken here or on its own thread, and its size must be what it handed
// out; an input that fails must fail with an error, never a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "archive/layer_decoder.hpp"
#include "crypto/sha256.hpp"

namespace {

// One file per fuzzing process, written again for every input.
const std::filesystem::path& blob_file() {
  static const std::filesystem::path file = [] {
    std::string name = (std::filesystem::temp_directory_path() / "distill-fuzz-layer.XXXXXX");
    int fd = mkstemp(name.data());
    if (fd < 0) {
      std::abort();
    }
    close(fd);
    return std::filesystem::path(name);
  }();
  return file;
}

bool write_blob(const uint8_t* data, size_t size) {
  FILE* out = std::fopen(blob_file().c_str(), "wb");
  if (out == nullptr) {
    return false;
  }
  bool ok = std::fwrite(data, 1, size, out) == size;
  return std::fclose(out) == 0 && ok;
}

// A small input may inflate enormously; past this the rest is not looked at.
constexpr uint64_t k_limit = uint64_t{16} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!write_blob(data, size)) {
    std::abort();
  }
  auto decoder = distill::archive::LayerDecoder::open(blob_file(), "fuzz");
  if (!decoder.ok()) {
    return 0;
  }
  distill::crypto::Sha256 mine;
  uint64_t handed = 0;
  for (;;) {
    auto piece = (*decoder)->next();
    if (!piece.ok()) {
      return 0;
    }
    if (piece->empty()) {
      break;
    }
    mine.update(*piece);
    handed += piece->size();
    if (handed > k_limit) {
      return 0;
    }
  }
  if ((*decoder)->size() != handed || (*decoder)->digest() != mine.finish()) {
    std::abort();
  }
  // Asked again after its end: still the end.
  auto after = (*decoder)->next();
  if (!after.ok() || !after->empty()) {
    std::abort();
  }
  return 0;
}
