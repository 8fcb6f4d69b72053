// libFuzzer target for the ELF reader (src/elf/elf_reader.cpp): any bytes must give
// an ElfInfo or an Error, never an out-of-bounds read, crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "elf/elf_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = distill::elf::parse_elf(bytes, "fuzz");
  if (info.ok()) {
    (void)distill::elf::multiarch_triplet(*info);
    (void)info->is_static();
  }
  return 0;
}
