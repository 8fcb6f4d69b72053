// libFuzzer target for the busybox applet table scanner
// (src/elf/busybox_applets.cpp): any bytes give a sorted list of names or an
// Error, never an out-of-bounds read, crash or hang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "elf/busybox_applets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto applets = distill::elf::busybox_applets(bytes, "fuzz");
  if (applets.ok()) {
    for (size_t i = 1; i < applets->size(); ++i) {
      if (!((*applets)[i - 1] < (*applets)[i])) {
        std::abort();  // the scanner promised a strictly sorted table
      }
    }
  }
  return 0;
}
