// ELF reader: the dynamic-linking facts of an ELF file, read from bytes.
//
// Follows the System V gABI (ELF header, program headers, the dynamic section) for
// 32/64-bit files of either byte order. Nothing in the file is trusted: every
// offset and size is checked (overflow-safe) before it is read, so truncated or
// hostile input gives an Error, never a crash. Dynamic strings are found through
// DT_STRTAB, a virtual address mapped to a file offset through the PT_LOAD segments
// (section headers are not needed and may be stripped).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::elf {

inline constexpr uint16_t k_et_exec = 2;
inline constexpr uint16_t k_et_dyn = 3;
inline constexpr uint16_t k_em_386 = 3;
inline constexpr uint16_t k_em_arm = 40;
inline constexpr uint16_t k_em_x86_64 = 62;
inline constexpr uint16_t k_em_aarch64 = 183;
inline constexpr uint16_t k_em_ppc64 = 21;
inline constexpr uint16_t k_em_s390 = 22;
inline constexpr uint16_t k_em_riscv = 243;

struct ElfInfo {
  bool is_64 = false;
  bool little_endian = true;
  uint16_t machine = 0;              // e_machine
  uint16_t type = 0;                 // e_type (k_et_exec, k_et_dyn, ...)
  uint32_t flags = 0;                // e_flags (ARM float ABI, RISC-V float ABI)
  std::string interpreter;           // PT_INTERP, "" if none
  std::string soname;                // DT_SONAME
  std::vector<std::string> needed;   // DT_NEEDED, in file order
  std::vector<std::string> runpath;  // DT_RUNPATH split at ':'
  std::vector<std::string> rpath;    // DT_RPATH split at ':'
  bool has_dynamic = false;          // has a PT_DYNAMIC segment

  // No program interpreter and no needed libraries: nothing to resolve at run time
  // (static executables, static-pie, ld.so itself).
  [[nodiscard]] bool is_static() const { return interpreter.empty() && needed.empty(); }
};

// True if `data` starts with the ELF magic.
bool looks_like_elf(std::string_view data);

// Parses `data`; `origin` (a path) names the file in error messages.
Result<ElfInfo> parse_elf(std::string_view data, const std::string& origin);

// The Debian multiarch triplet for an ELF file ("x86_64-linux-gnu"); "" if unknown.
std::string multiarch_triplet(const ElfInfo& info);

}  // namespace distill::elf
