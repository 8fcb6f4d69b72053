// libFuzzer target for the view cache's layer records (check/view_cache.hpp), which
// a damaged or foreign cache file may hold: decoding never crashes, and a record
// that decodes encodes to bytes that decode to the same record again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "check/view_cache.hpp"

using namespace distill::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto read = decode_layer_read(bytes);
  if (!read) {
    return 0;
  }
  const std::string once = encode_layer_read(*read);
  auto again = decode_layer_read(once);
  if (!again || encode_layer_read(*again) != once) {
    std::abort();
  }
  return 0;
}
