// ld.so.cache writer (see ld_so_cache.hpp), after glibc's dl-cache.h and the
// sort order of ldconfig's cache.c (compare()).
#include "elf/ld_so_cache.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace distill::elf {
namespace {

constexpr char k_magic[] = "glibc-ld.so.cache";                    // 17 bytes, no NUL in the file
constexpr char k_version[] = "1.1";                                // 3 bytes
constexpr size_t k_header_size = 17 + 3 + 4 + 4 + 1 + 3 + 4 + 12;  // 48
constexpr size_t k_entry_size = 4 + 4 + 4 + 4 + 8;                 // 24
constexpr uint8_t k_endian_little = 2;
constexpr uint8_t k_endian_big = 3;

class Writer {
 public:
  explicit Writer(bool big) : m_big(big) {}
  // Appends `width` (at most 8) bytes of `value` in the file's byte order.
  void put(uint64_t value, unsigned width) {
    for (unsigned i = 0; i < width; ++i) {
      unsigned shift = 8 * (m_big ? width - 1 - i : i);
      m_out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
  }
  void zeros(size_t count) { m_out.append(count, '\0'); }
  void bytes(const std::string& text) { m_out += text; }
  std::string take() { return std::move(m_out); }

 private:
  bool m_big;
  std::string m_out;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

int dl_cache_libcmp(const std::string& a, const std::string& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size()) {
    if (is_digit(a[i])) {
      if (j >= b.size() || !is_digit(b[j])) {
        return 1;
      }
      // Compare the digit runs as numbers (without overflow: by length, then text).
      size_t i_end = i;
      size_t j_end = j;
      while (i_end < a.size() && is_digit(a[i_end])) {
        ++i_end;
      }
      while (j_end < b.size() && is_digit(b[j_end])) {
        ++j_end;
      }
      std::string_view na(a.data() + i, i_end - i);
      std::string_view nb(b.data() + j, j_end - j);
      while (na.size() > 1 && na[0] == '0') {
        na.remove_prefix(1);
      }
      while (nb.size() > 1 && nb[0] == '0') {
        nb.remove_prefix(1);
      }
      if (na.size() != nb.size()) {
        return na.size() < nb.size() ? -1 : 1;
      }
      if (int c = na.compare(nb); c != 0) {
        return c < 0 ? -1 : 1;
      }
      i = i_end;
      j = j_end;
    } else if (j < b.size() && is_digit(b[j])) {
      return -1;
    } else if (j >= b.size() || a[i] != b[j]) {
      int cb = j < b.size() ? static_cast<unsigned char>(b[j]) : 0;
      return static_cast<unsigned char>(a[i]) - cb < 0 ? -1 : 1;
    } else {
      ++i;
      ++j;
    }
  }
  return j < b.size() ? -1 : 0;
}

int32_t cache_flags_for(const ElfInfo& info) {
  int32_t flags = k_cache_flag_elf_libc6;
  switch (info.machine) {
    case k_em_x86_64:
      return info.is_64 ? flags | k_cache_flag_x8664_lib64 : flags | 0x0800;  // x32
    case k_em_aarch64:
      return flags | k_cache_flag_aarch64_lib64;
    case k_em_arm:
      return (info.flags & 0x400) != 0 ? flags | k_cache_flag_arm_libhf : flags | 0x0b00;
    case k_em_s390:
      return info.is_64 ? flags | k_cache_flag_s390_lib64 : flags;
    case k_em_ppc64:
      return flags | k_cache_flag_powerpc_lib64;
    case k_em_riscv:
      // EF_RISCV_FLOAT_ABI_DOUBLE (0x4) on a 64-bit file: lp64d.
      return (info.flags & 0x6) == 0x4 ? flags | k_cache_flag_riscv_float_abi_double
                                       : flags | 0x0f00;
    default:
      return flags;
  }
}

std::vector<CacheEntry> scan_cache_entries(const RootfsView& root,
                                           const std::vector<std::string>& dirs) {
  std::vector<CacheEntry> out;
  std::set<std::pair<std::string, int32_t>> seen;
  for (const auto& dir : dirs) {
    for (const auto& name : root.list_dir(dir)) {
      bool lib_name = (name.rfind("lib", 0) == 0 || name.rfind("ld-", 0) == 0) &&
                      name.find(".so") != std::string::npos;
      if (!lib_name) {
        continue;
      }
      std::string path = dir == "/" ? "/" + name : dir + "/" + name;
      auto data = root.read_file(path);
      if (!data || !looks_like_elf(*data)) {
        continue;
      }
      auto info = parse_elf(*data, path);
      if (!info.ok() || info->soname.empty() || info->type != k_et_dyn) {
        continue;
      }
      int32_t flags = cache_flags_for(*info);
      if (!seen.emplace(info->soname, flags).second) {
        continue;
      }
      std::string target = dir == "/" ? "/" + info->soname : dir + "/" + info->soname;
      if (!root.read_file(target)) {
        continue;  // ldconfig would create the soname link; the image must have it
      }
      out.push_back(CacheEntry{info->soname, target, flags, 0});
    }
  }
  return out;
}

Result<std::string> build_ld_so_cache(const std::vector<CacheEntry>& input, bool big_endian) {
  std::vector<CacheEntry> entries = input;
  for (const auto& e : entries) {
    if (e.soname.empty() || e.path.empty() || e.soname.find('\0') != std::string::npos ||
        e.path.find('\0') != std::string::npos) {
      return make_error(ErrorKind::InvalidInput, "ld.so.cache: entry '" + e.soname + "' -> '" +
                                                     e.path + "' has an empty name or a NUL byte");
    }
  }
  // ldconfig's compare(): soname descending (libcmp), then flags descending, then
  // hwcap descending; the path breaks remaining ties so the output is deterministic.
  std::sort(entries.begin(), entries.end(), [](const CacheEntry& a, const CacheEntry& b) {
    int c = dl_cache_libcmp(a.soname, b.soname);
    if (c != 0) {
      return c > 0;
    }
    if (a.flags != b.flags) {
      return a.flags > b.flags;
    }
    if (a.hwcap != b.hwcap) {
      return a.hwcap > b.hwcap;
    }
    return a.path < b.path;
  });
  for (size_t i = 1; i < entries.size(); ++i) {
    const auto& p = entries[i - 1];
    const auto& e = entries[i];
    if (p.soname == e.soname && p.flags == e.flags && p.hwcap == e.hwcap) {
      return make_error(
          ErrorKind::InvalidInput,
          "ld.so.cache: '" + e.soname + "' is listed twice (" + p.path + ", " + e.path + ")");
    }
  }
  if (entries.size() > 0xffffffu / k_entry_size) {
    return make_error(ErrorKind::InvalidInput, "ld.so.cache: too many entries");
  }

  // String table: each distinct string once, in order of first use.
  const uint64_t strings_base = k_header_size + entries.size() * k_entry_size;
  std::string strings;
  std::map<std::string, uint64_t> offsets;
  auto intern = [&](const std::string& s) {
    auto [it, inserted] = offsets.emplace(s, strings_base + strings.size());
    if (inserted) {
      strings += s;
      strings.push_back('\0');
    }
    return it->second;
  };
  std::vector<std::pair<uint64_t, uint64_t>> key_value;
  for (const auto& e : entries) {
    uint64_t key = intern(e.soname);
    uint64_t value = intern(e.path);
    key_value.emplace_back(key, value);
  }
  if (strings_base + strings.size() > UINT32_MAX) {
    return make_error(ErrorKind::InvalidInput, "ld.so.cache: more than 4 GiB of strings");
  }

  Writer w(big_endian);
  w.bytes(std::string(k_magic, 17));
  w.bytes(std::string(k_version, 3));
  w.put(entries.size(), 4);
  w.put(strings.size(), 4);
  w.put(big_endian ? k_endian_big : k_endian_little, 1);
  w.zeros(3);   // padding_unsed
  w.put(0, 4);  // extension_offset: no extensions
  w.zeros(12);  // unused[3]
  for (size_t i = 0; i < entries.size(); ++i) {
    w.put(static_cast<uint32_t>(entries[i].flags), 4);
    w.put(key_value[i].first, 4);
    w.put(key_value[i].second, 4);
    w.put(0, 4);  // osversion
    w.put(entries[i].hwcap, 8);
  }
  w.bytes(strings);
  return w.take();
}

}  // namespace distill::elf
