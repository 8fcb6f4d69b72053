// program_build_id: see build_id.hpp. The note's layout is the ELF note
// format (System V ABI, "Note Section"): namesz, descsz and type words, then
// the name and the descriptor, each padded to 4 bytes.
#include "util/build_id.hpp"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>

namespace distill::util {

namespace {

constexpr uint32_t k_note_gnu_build_id = 3;  // NT_GNU_BUILD_ID

size_t padded(size_t size) { return (size + 3) & ~size_t{3}; }

std::string build_id_in(const char* notes, size_t size) {
  static constexpr char k_hex[] = "0123456789abcdef";
  size_t at = 0;
  while (at + 12 <= size) {
    uint32_t name_size = 0;
    uint32_t desc_size = 0;
    uint32_t type = 0;
    std::memcpy(&name_size, notes + at, 4);
    std::memcpy(&desc_size, notes + at + 4, 4);
    std::memcpy(&type, notes + at + 8, 4);
    const size_t name_at = at + 12;
    const size_t desc_at = name_at + padded(name_size);
    if (desc_at > size || desc_size > size - desc_at) {
      return {};
    }
    if (type == k_note_gnu_build_id && name_size == 4 &&
        std::memcmp(notes + name_at, "GNU", 4) == 0) {
      std::string hex;
      for (size_t i = 0; i < desc_size; ++i) {
        const auto byte = static_cast<unsigned char>(notes[desc_at + i]);
        hex += k_hex[byte >> 4];
        hex += k_hex[byte & 15];
      }
      return hex;
    }
    at = desc_at + padded(desc_size);
  }
  return {};
}

// The first object dl_iterate_phdr() reports is the program itself.
int find_in_program(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum && out->empty(); ++i) {
    const ElfW(Phdr)& header = info->dlpi_phdr[i];
    if (header.p_type == PT_NOTE) {
      // The note as loaded: the program's base address plus its offset.
      const ElfW(Addr) address = info->dlpi_addr + header.p_vaddr;
      // NOLINTNEXTLINE(performance-no-int-to-ptr)
      *out = build_id_in(reinterpret_cast<const char*>(address), header.p_memsz);
    }
  }
  return 1;  // the program only
}

}  // namespace

const std::string& program_build_id() {
  static const std::string k_id = [] {
    std::string id;
    dl_iterate_phdr(find_in_program, &id);
    return id;
  }();
  return k_id;
}

}  // namespace distill::util
