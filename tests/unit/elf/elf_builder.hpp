// A tiny ELF writer for tests: builds a file with PT_LOAD, optional PT_INTERP and a
// PT_DYNAMIC (DT_NEEDED/SONAME/RUNPATH/RPATH, DT_STRTAB) for either class and byte
// order, so the reader can be tested on inputs the host does not have.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace distill::elf::testing {

struct ElfSpec {
  bool is_64 = true;
  bool little_endian = true;
  uint16_t machine = 62;
  uint16_t type = 3;  // ET_DYN
  std::string interpreter;
  std::string soname;
  std::vector<std::string> needed;
  std::string runpath;
  std::string rpath;
  bool dynamic = true;
};

// Layout: header | phdrs | interp | strtab | dynamic. One PT_LOAD maps the whole
// file at vaddr 0x400000 (so DT_STRTAB holds an address, not an offset).
inline std::string build_elf(const ElfSpec& spec) {
  const uint64_t vbase = 0x400000;
  const unsigned word = spec.is_64 ? 8 : 4;
  const uint64_t ehsize = spec.is_64 ? 64 : 52;
  const uint64_t phentsize = spec.is_64 ? 56 : 32;
  const uint64_t phnum = 1 + (spec.interpreter.empty() ? 0 : 1) + (spec.dynamic ? 1 : 0);

  std::string strtab(1, '\0');
  auto add_string = [&](const std::string& s) {
    uint64_t off = strtab.size();
    strtab += s;
    strtab.push_back('\0');
    return off;
  };
  std::vector<std::pair<uint64_t, uint64_t>> dyn;
  for (const auto& n : spec.needed) {
    dyn.emplace_back(1, add_string(n));
  }
  if (!spec.soname.empty()) {
    dyn.emplace_back(14, add_string(spec.soname));
  }
  if (!spec.runpath.empty()) {
    dyn.emplace_back(29, add_string(spec.runpath));
  }
  if (!spec.rpath.empty()) {
    dyn.emplace_back(15, add_string(spec.rpath));
  }
  const uint64_t interp_off = ehsize + phnum * phentsize;
  const uint64_t interp_size = spec.interpreter.empty() ? 0 : spec.interpreter.size() + 1;
  const uint64_t strtab_off = interp_off + interp_size;
  uint64_t dyn_off = strtab_off + strtab.size();
  dyn_off = (dyn_off + 7) & ~uint64_t{7};
  dyn.emplace_back(5, vbase + strtab_off);
  dyn.emplace_back(10, strtab.size());
  dyn.emplace_back(0, 0);
  const uint64_t dyn_size = dyn.size() * 2 * word;
  const uint64_t total = dyn_off + dyn_size;

  std::string out(total, '\0');
  auto put = [&](uint64_t off, uint64_t value, unsigned width) {
    for (unsigned i = 0; i < width; ++i) {
      unsigned shift = 8 * (spec.little_endian ? i : width - 1 - i);
      out[off + i] = static_cast<char>((value >> shift) & 0xff);
    }
  };
  out[0] = 0x7f;
  out[1] = 'E';
  out[2] = 'L';
  out[3] = 'F';
  out[4] = static_cast<char>(spec.is_64 ? 2 : 1);
  out[5] = static_cast<char>(spec.little_endian ? 1 : 2);
  out[6] = 1;
  put(16, spec.type, 2);
  put(18, spec.machine, 2);
  put(20, 1, 4);
  put(spec.is_64 ? 32 : 28, ehsize, word);  // e_phoff
  put(spec.is_64 ? 52 : 40, ehsize, 2);     // e_ehsize
  put(spec.is_64 ? 54 : 42, phentsize, 2);
  put(spec.is_64 ? 56 : 44, phnum, 2);
  uint64_t ph = ehsize;
  auto phdr = [&](uint32_t type, uint64_t off, uint64_t size) {
    put(ph, type, 4);
    if (spec.is_64) {
      put(ph + 8, off, 8);
      put(ph + 16, vbase + off, 8);
      put(ph + 24, vbase + off, 8);
      put(ph + 32, size, 8);
      put(ph + 40, size, 8);
    } else {
      put(ph + 4, off, 4);
      put(ph + 8, vbase + off, 4);
      put(ph + 12, vbase + off, 4);
      put(ph + 16, size, 4);
      put(ph + 20, size, 4);
    }
    ph += phentsize;
  };
  phdr(1, 0, total);
  if (!spec.interpreter.empty()) {
    phdr(3, interp_off, interp_size);
    out.replace(interp_off, spec.interpreter.size(), spec.interpreter);
  }
  if (spec.dynamic) {
    phdr(2, dyn_off, dyn_size);
  }
  out.replace(strtab_off, strtab.size(), strtab);
  for (size_t i = 0; i < dyn.size(); ++i) {
    put(dyn_off + i * 2 * word, dyn[i].first, word);
    put(dyn_off + i * 2 * word + word, dyn[i].second, word);
  }
  return out;
}

}  // namespace distill::elf::testing
