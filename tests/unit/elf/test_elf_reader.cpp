// Tests for the ELF reader: the host's real binaries (checked against readelf),
// constructed 32/64-bit little/big-endian files, and truncated or corrupted input.
#include <gtest/gtest.h>

#include <random>

#include "elf/elf_reader.hpp"
#include "elf_builder.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"

namespace distill::elf {
namespace {

using testing::build_elf;
using testing::ElfSpec;

std::string read_host(const std::string& path) {
  auto data = util::read_file(path);
  EXPECT_TRUE(data.ok()) << path;
  return data.ok() ? *data : std::string();
}

// DT_NEEDED names as readelf prints them, as an independent check.
std::vector<std::string> readelf_needed(const std::string& path) {
  std::vector<std::string> out;
  auto result = util::run_command({{"readelf", "-d", "-W", path}});
  if (!result.ok() || result->exit_code != 0) {
    return out;
  }
  const std::string& text = result->stdout_data;
  size_t pos = 0;
  while ((pos = text.find("(NEEDED)", pos)) != std::string::npos) {
    size_t open = text.find('[', pos);
    size_t close = text.find(']', open);
    out.push_back(text.substr(open + 1, close - open - 1));
    pos = close;
  }
  return out;
}

TEST(ElfReader, HostLs) {
  std::string data = read_host("/bin/ls");
  ASSERT_TRUE(looks_like_elf(data));
  auto info = parse_elf(data, "/bin/ls");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->is_64);
  EXPECT_TRUE(info->little_endian);
  EXPECT_EQ(info->machine, k_em_x86_64);
  EXPECT_EQ(info->interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_FALSE(info->is_static());
  EXPECT_NE(std::find(info->needed.begin(), info->needed.end(), "libc.so.6"), info->needed.end());
  if (util::find_program("readelf").empty()) {
    GTEST_SKIP() << "readelf not installed";
  }
  EXPECT_EQ(info->needed, readelf_needed("/bin/ls"));
  EXPECT_EQ(multiarch_triplet(*info), "x86_64-linux-gnu");
}

TEST(ElfReader, HostLibc) {
  std::string path = "/lib/x86_64-linux-gnu/libc.so.6";
  auto info = parse_elf(read_host(path), path);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->type, k_et_dyn);
  EXPECT_EQ(info->soname, "libc.so.6");
  EXPECT_EQ(info->needed, (std::vector<std::string>{"ld-linux-x86-64.so.2"}));
}

TEST(ElfReader, HostDynamicLoaderIsStatic) {
  std::string path = "/lib64/ld-linux-x86-64.so.2";
  auto info = parse_elf(read_host(path), path);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->is_static());
  EXPECT_EQ(info->soname, "ld-linux-x86-64.so.2");
}

TEST(ElfReader, AllClassesAndByteOrders) {
  for (bool is_64 : {false, true}) {
    for (bool little : {false, true}) {
      ElfSpec spec;
      spec.is_64 = is_64;
      spec.little_endian = little;
      spec.machine = is_64 ? 22 : 20;  // s390x / ppc
      spec.type = 2;
      spec.interpreter = "/lib/ld.so.1";
      spec.soname = "libme.so.1";
      spec.needed = {"libc.so.6", "libm.so.6"};
      spec.runpath = "$ORIGIN/../lib:/opt/lib";
      spec.rpath = "/rp";
      std::string data = build_elf(spec);
      auto info = parse_elf(data, "sample");
      ASSERT_TRUE(info.ok()) << info.error().message;
      EXPECT_EQ(info->is_64, is_64);
      EXPECT_EQ(info->little_endian, little);
      EXPECT_EQ(info->machine, spec.machine);
      EXPECT_EQ(info->type, 2);
      EXPECT_EQ(info->interpreter, "/lib/ld.so.1");
      EXPECT_EQ(info->soname, "libme.so.1");
      EXPECT_EQ(info->needed, spec.needed);
      EXPECT_EQ(info->runpath, (std::vector<std::string>{"$ORIGIN/../lib", "/opt/lib"}));
      EXPECT_EQ(info->rpath, (std::vector<std::string>{"/rp"}));
    }
  }
}

TEST(ElfReader, StaticExecutableHasNoDynamicSection) {
  ElfSpec spec;
  spec.type = 2;
  spec.dynamic = false;
  auto info = parse_elf(build_elf(spec), "static");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->is_static());
  EXPECT_FALSE(info->has_dynamic);
}

TEST(ElfReader, NotElf) {
  EXPECT_FALSE(looks_like_elf("#!/bin/sh\n"));
  EXPECT_FALSE(
      looks_like_elf("\x7f"
                     "EL"));
  auto info = parse_elf("#!/bin/sh\n", "script");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(info.error().message.find("script"), std::string::npos);
}

TEST(ElfReader, EveryTruncationFailsCleanly) {
  ElfSpec spec;
  spec.interpreter = "/lib64/ld-linux-x86-64.so.2";
  spec.needed = {"libc.so.6"};
  std::string full = build_elf(spec);
  ASSERT_TRUE(parse_elf(full, "full").ok());
  for (size_t n = 0; n < full.size(); ++n) {
    auto info = parse_elf(std::string_view(full).substr(0, n), "cut");
    EXPECT_FALSE(info.ok()) << "prefix of " << n << " bytes parsed";
  }
}

TEST(ElfReader, HostBinaryPrefixesNeverCrash) {
  std::string data = read_host("/bin/ls");
  for (size_t n = 0; n < data.size(); n += 997) {
    (void)parse_elf(std::string_view(data).substr(0, n), "cut").ok();
  }
}

TEST(ElfReader, CorruptedFieldsAreErrors) {
  ElfSpec spec;
  spec.needed = {"libc.so.6"};
  std::string good = build_elf(spec);
  auto corrupt = [&](size_t off, uint64_t value, unsigned width) {
    std::string bad = good;
    for (unsigned i = 0; i < width; ++i) {
      bad[off + i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
    return parse_elf(bad, "bad");
  };
  EXPECT_FALSE(corrupt(32, UINT64_MAX - 3, 8).ok());  // e_phoff overflows
  EXPECT_FALSE(corrupt(56, 0xfff0, 2).ok());          // e_phnum past the end
  EXPECT_FALSE(corrupt(54, 8, 2).ok());               // e_phentsize too small
  EXPECT_FALSE(corrupt(4, 7, 1).ok());                // EI_CLASS
  EXPECT_FALSE(corrupt(5, 9, 1).ok());                // EI_DATA
  // PT_DYNAMIC's p_offset (second phdr) far past the end.
  EXPECT_FALSE(corrupt(64 + 56 + 8, UINT64_MAX - 1, 8).ok());
}

TEST(ElfReader, BadStringTableIsAnError) {
  ElfSpec spec;
  spec.needed = {"libc.so.6"};
  std::string good = build_elf(spec);
  // Find the DT_STRTAB entry (tag 5) in the dynamic section and point it elsewhere.
  auto info = parse_elf(good, "good");
  ASSERT_TRUE(info.ok());
  for (size_t off = 0; off + 16 <= good.size(); off += 8) {
    if (good[off] == 5 && good.compare(off + 1, 7, std::string(7, '\0')) == 0) {
      std::string bad = good;
      bad[off + 8 + 7] = 0x70;  // address 0x70....: in no PT_LOAD
      auto r = parse_elf(bad, "bad");
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message.find("DT_STRTAB"), std::string::npos) << r.error().message;
      return;
    }
  }
  FAIL() << "DT_STRTAB not found";
}

TEST(ElfReader, RandomMutationsNeverCrash) {
  ElfSpec spec;
  spec.interpreter = "/lib/ld.so";
  spec.needed = {"liba.so", "libb.so"};
  spec.runpath = "$ORIGIN";
  std::mt19937 rng(1234);
  for (bool is_64 : {false, true}) {
    spec.is_64 = is_64;
    std::string good = build_elf(spec);
    for (int i = 0; i < 5000; ++i) {
      std::string bad = good;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
      }
      auto r = parse_elf(bad, "mutant");
      if (r.ok()) {
        for (const auto& n : r->needed) {
          EXPECT_LE(n.size(), bad.size());
        }
      }
    }
  }
}

}  // namespace
}  // namespace distill::elf
