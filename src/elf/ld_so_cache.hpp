// ld.so.cache writer: glibc's "new" cache format, so programs in the image (and
// Python's ctypes.util.find_library) find libraries without running ldconfig.
//
// Follows glibc sysdeps/generic/dl-cache.h: a cache_file_new header (magic
// "glibc-ld.so.cache" + version "1.1", nlibs, len_strings, an endianness flags byte,
// extension_offset), nlibs file_entry_new records {flags, key, value, osversion,
// hwcap} and a string table; key/value are offsets from the start of the file.
// Entries are sorted like ldconfig sorts them (by soname, descending in
// _dl_cache_libcmp order, which ld.so's binary search relies on). The output is a
// pure function of the entries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "elf/elf_reader.hpp"
#include "elf/library_closure.hpp"
#include "util/result.hpp"

namespace distill::elf {

// file_entry_new.flags values (dl-cache.h).
inline constexpr int32_t k_cache_flag_elf_libc6 = 0x0003;
inline constexpr int32_t k_cache_flag_x8664_lib64 = 0x0300;
inline constexpr int32_t k_cache_flag_aarch64_lib64 = 0x0a00;
inline constexpr int32_t k_cache_flag_arm_libhf = 0x0900;
inline constexpr int32_t k_cache_flag_s390_lib64 = 0x0400;
inline constexpr int32_t k_cache_flag_powerpc_lib64 = 0x0500;
inline constexpr int32_t k_cache_flag_riscv_float_abi_double = 0x1000;

struct CacheEntry {
  std::string soname;  // key, e.g. "libc.so.6"
  std::string path;    // value, e.g. "/lib/x86_64-linux-gnu/libc.so.6"
  int32_t flags = k_cache_flag_elf_libc6 | k_cache_flag_x8664_lib64;
  uint64_t hwcap = 0;
};

// The flags ldconfig gives a library with this ELF header (FLAG_ELF_LIBC6 plus
// the architecture's FLAG_*_LIB64/LIBHF bits).
int32_t cache_flags_for(const ElfInfo& info);

// _dl_cache_libcmp: strcmp, except that digit runs compare numerically.
int dl_cache_libcmp(const std::string& a, const std::string& b);

// What ldconfig would list for `dirs` (absolute, inside the rootfs): every ELF
// shared object named lib*.so* or ld-*.so* with a DT_SONAME, as {soname,
// DIR/soname}; the first directory providing a soname (with given flags) wins.
std::vector<CacheEntry> scan_cache_entries(const RootfsView& root,
                                           const std::vector<std::string>& dirs);

// The cache file bytes, little-endian unless `big_endian`. Errors: an empty
// soname/path, a string with a NUL, or duplicate (soname, flags, hwcap) entries.
Result<std::string> build_ld_so_cache(const std::vector<CacheEntry>& entries,
                                      bool big_endian = false);

}  // namespace distill::elf
