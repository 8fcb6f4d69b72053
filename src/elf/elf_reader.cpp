// ELF reader (see elf_reader.hpp): bounds-checked parsing of the ELF header, the
// program headers, PT_INTERP and PT_DYNAMIC, after the System V gABI.
#include "elf/elf_reader.hpp"

#include <optional>

namespace distill::elf {
namespace {

constexpr uint32_t k_pt_load = 1;
constexpr uint32_t k_pt_dynamic = 2;
constexpr uint32_t k_pt_interp = 3;
constexpr uint64_t k_dt_null = 0;
constexpr uint64_t k_dt_needed = 1;
constexpr uint64_t k_dt_strtab = 5;
constexpr uint64_t k_dt_strsz = 10;
constexpr uint64_t k_dt_soname = 14;
constexpr uint64_t k_dt_rpath = 15;
constexpr uint64_t k_dt_runpath = 29;
constexpr size_t k_max_dynamic_entries = 1 << 16;

struct Segment {
  uint32_t type = 0;
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
};

class Reader {
 public:
  Reader(std::string_view data, bool little) : m_data(data), m_little(little) {}

  [[nodiscard]] bool in_bounds(uint64_t offset, uint64_t size) const {
    return offset <= m_data.size() && size <= m_data.size() - offset;
  }

  [[nodiscard]] std::optional<uint64_t> read(uint64_t offset, unsigned width) const {
    if (!in_bounds(offset, width)) {
      return std::nullopt;
    }
    uint64_t value = 0;
    for (unsigned i = 0; i < width; ++i) {
      auto byte = static_cast<uint8_t>(m_data[offset + (m_little ? width - 1 - i : i)]);
      value = (value << 8) | byte;
    }
    return value;
  }

  // A NUL-terminated string starting at `offset`, not reaching past `limit`.
  [[nodiscard]] std::optional<std::string> c_string(uint64_t offset, uint64_t limit) const {
    if (limit > m_data.size()) {
      limit = m_data.size();
    }
    if (offset >= limit) {
      return std::nullopt;
    }
    std::string_view rest = m_data.substr(offset, limit - offset);
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) {
      return std::nullopt;
    }
    return std::string(rest.substr(0, nul));
  }

  [[nodiscard]] size_t size() const { return m_data.size(); }

 private:
  std::string_view m_data;
  bool m_little;
};

std::vector<std::string> split_path_list(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string::npos) {
      end = list.size();
    }
    if (end > start) {
      out.push_back(list.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

Error corrupt(const std::string& origin, const std::string& what) {
  return make_error(ErrorKind::Corrupt, origin + ": malformed ELF file: " + what);
}

}  // namespace

bool looks_like_elf(std::string_view data) {
  return data.size() >= 4 && data.substr(0, 4) == std::string_view(
                                                      "\x7f"
                                                      "ELF",
                                                      4);
}

Result<ElfInfo> parse_elf(std::string_view data, const std::string& origin) {
  if (!looks_like_elf(data)) {
    return make_error(ErrorKind::InvalidInput, origin + ": not an ELF file");
  }
  if (data.size() < 16) {
    return corrupt(origin, "truncated identification");
  }
  ElfInfo info;
  auto ei_class = static_cast<uint8_t>(data[4]);
  auto ei_data = static_cast<uint8_t>(data[5]);
  if (ei_class != 1 && ei_class != 2) {
    return corrupt(origin, "unknown class " + std::to_string(ei_class));
  }
  if (ei_data != 1 && ei_data != 2) {
    return corrupt(origin, "unknown byte order " + std::to_string(ei_data));
  }
  info.is_64 = ei_class == 2;
  info.little_endian = ei_data == 1;
  Reader r(data, info.little_endian);
  const unsigned word = info.is_64 ? 8 : 4;
  const uint64_t header_size = info.is_64 ? 64 : 52;
  if (!r.in_bounds(0, header_size)) {
    return corrupt(origin, "truncated ELF header");
  }
  info.type = static_cast<uint16_t>(*r.read(16, 2));
  info.machine = static_cast<uint16_t>(*r.read(18, 2));
  uint64_t phoff = *r.read(info.is_64 ? 32 : 28, word);
  info.flags = static_cast<uint32_t>(*r.read(info.is_64 ? 48 : 36, 4));
  uint64_t phentsize = *r.read(info.is_64 ? 54 : 42, 2);
  uint64_t phnum = *r.read(info.is_64 ? 56 : 44, 2);
  const uint64_t ph_min = info.is_64 ? 56 : 32;
  if (phnum == 0) {
    return info;  // relocatable object or core: nothing to resolve
  }
  if (phnum == 0xffff) {
    return make_error(ErrorKind::Unsupported,
                      origin + ": more than 65534 program headers (PN_XNUM)");
  }
  if (phentsize < ph_min) {
    return corrupt(origin, "program header size " + std::to_string(phentsize) + " too small");
  }
  if (phoff > r.size() || phnum > (r.size() - phoff) / phentsize) {
    return corrupt(origin, "program headers outside the file");
  }

  std::vector<Segment> segments;
  for (uint64_t i = 0; i < phnum; ++i) {
    uint64_t base = phoff + i * phentsize;
    Segment s;
    s.type = static_cast<uint32_t>(*r.read(base, 4));
    if (info.is_64) {
      s.offset = *r.read(base + 8, 8);
      s.vaddr = *r.read(base + 16, 8);
      s.filesz = *r.read(base + 32, 8);
    } else {
      s.offset = *r.read(base + 4, 4);
      s.vaddr = *r.read(base + 8, 4);
      s.filesz = *r.read(base + 16, 4);
    }
    segments.push_back(s);
  }

  const Segment* dynamic = nullptr;
  for (const auto& s : segments) {
    if (s.type == k_pt_interp) {
      if (!r.in_bounds(s.offset, s.filesz)) {
        return corrupt(origin, "PT_INTERP outside the file");
      }
      auto interp = r.c_string(s.offset, s.offset + s.filesz);
      if (!interp || interp->empty()) {
        return corrupt(origin, "PT_INTERP is not a NUL-terminated path");
      }
      info.interpreter = *interp;
    } else if (s.type == k_pt_dynamic && dynamic == nullptr) {
      dynamic = &s;
    }
  }
  if (dynamic == nullptr) {
    return info;
  }
  info.has_dynamic = true;
  if (!r.in_bounds(dynamic->offset, dynamic->filesz)) {
    return corrupt(origin, "PT_DYNAMIC outside the file");
  }

  // Collect the dynamic entries first: DT_STRTAB may come after DT_NEEDED.
  struct Dyn {
    uint64_t tag;
    uint64_t value;
  };
  std::vector<Dyn> entries;
  const uint64_t entsize = 2ull * word;
  uint64_t count = dynamic->filesz / entsize;
  if (count > k_max_dynamic_entries) {
    count = k_max_dynamic_entries;
  }
  std::optional<uint64_t> strtab_addr;
  std::optional<uint64_t> strsz;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t base = dynamic->offset + i * entsize;
    Dyn d{*r.read(base, word), *r.read(base + word, word)};
    if (d.tag == k_dt_null) {
      break;
    }
    if (d.tag == k_dt_strtab) {
      strtab_addr = d.value;
    } else if (d.tag == k_dt_strsz) {
      strsz = d.value;
    }
    entries.push_back(d);
  }
  bool wants_strings = false;
  for (const auto& d : entries) {
    wants_strings |= d.tag == k_dt_needed || d.tag == k_dt_soname || d.tag == k_dt_rpath ||
                     d.tag == k_dt_runpath;
  }
  if (!wants_strings) {
    return info;
  }
  if (!strtab_addr) {
    return corrupt(origin, "dynamic section has strings but no DT_STRTAB");
  }
  // Map DT_STRTAB's address to a file offset through the PT_LOAD segment holding it.
  std::optional<uint64_t> strtab_offset;
  uint64_t strtab_limit = 0;
  for (const auto& s : segments) {
    if (s.type != k_pt_load || *strtab_addr < s.vaddr || *strtab_addr - s.vaddr >= s.filesz) {
      continue;
    }
    uint64_t delta = *strtab_addr - s.vaddr;
    if (!r.in_bounds(s.offset, s.filesz)) {
      return corrupt(origin, "PT_LOAD segment outside the file");
    }
    strtab_offset = s.offset + delta;
    strtab_limit = s.offset + s.filesz;  // strings cannot run past their segment
    break;
  }
  if (!strtab_offset) {
    return corrupt(origin, "DT_STRTAB address is in no loaded segment");
  }
  if (strsz && *strsz < strtab_limit - *strtab_offset) {
    strtab_limit = *strtab_offset + *strsz;
  }
  for (const auto& d : entries) {
    if (d.tag != k_dt_needed && d.tag != k_dt_soname && d.tag != k_dt_rpath &&
        d.tag != k_dt_runpath) {
      continue;
    }
    if (d.value >= strtab_limit - *strtab_offset) {
      return corrupt(
          origin, "dynamic string offset " + std::to_string(d.value) + " outside the string table");
    }
    auto text = r.c_string(*strtab_offset + d.value, strtab_limit);
    if (!text) {
      return corrupt(origin, "unterminated dynamic string");
    }
    if (d.tag == k_dt_needed) {
      info.needed.push_back(*text);
    } else if (d.tag == k_dt_soname) {
      info.soname = *text;
    } else if (d.tag == k_dt_rpath) {
      auto parts = split_path_list(*text);
      info.rpath.insert(info.rpath.end(), parts.begin(), parts.end());
    } else {
      auto parts = split_path_list(*text);
      info.runpath.insert(info.runpath.end(), parts.begin(), parts.end());
    }
  }
  return info;
}

std::string multiarch_triplet(const ElfInfo& info) {
  switch (info.machine) {
    case k_em_x86_64:
      return info.is_64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
    case k_em_386:
      return "i386-linux-gnu";
    case k_em_aarch64:
      return "aarch64-linux-gnu";
    case k_em_arm:
      // EF_ARM_ABI_FLOAT_HARD (0x400): armhf; otherwise armel.
      return (info.flags & 0x400) != 0 ? "arm-linux-gnueabihf" : "arm-linux-gnueabi";
    case k_em_ppc64:
      return info.little_endian ? "powerpc64le-linux-gnu" : "powerpc64-linux-gnu";
    case k_em_s390:
      return "s390x-linux-gnu";
    case k_em_riscv:
      return "riscv64-linux-gnu";
    default:
      return "";
  }
}

}  // namespace distill::elf
