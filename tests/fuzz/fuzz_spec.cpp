// libFuzzer target for the spec parser (src/image/spec.cpp): any bytes must give a
// Spec or an Error, never a crash, hang or escaping yaml-cpp exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "image/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A base directory that does not exist keeps `src` checks away from real files.
  auto result = distill::image::parse_spec_text(text, "fuzz.yaml", "/nonexistent-distill-fuzz");
  (void)result.ok();
  return 0;
}
