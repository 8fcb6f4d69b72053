// Tests for the ld.so.cache writer, checked with glibc's own reader: `ldconfig -p
// -C FILE` must list what we wrote, and the same as a cache made by ldconfig.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "elf/ld_so_cache.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::elf {
namespace {

namespace fs = std::filesystem;

std::string ldconfig() {
  for (const char* p : {"/usr/sbin/ldconfig", "/sbin/ldconfig"}) {
    if (fs::exists(p)) {
      return p;
    }
  }
  return util::find_program("ldconfig").string();
}

// The entry lines of `ldconfig -p -C FILE`, sorted; empty on failure.
std::vector<std::string> ldconfig_print(const fs::path& cache, std::string* header = nullptr) {
  auto result = util::run_command({{ldconfig(), "-p", "-C", cache.string()}});
  EXPECT_TRUE(result.ok());
  if (!result.ok()) {
    return {};
  }
  EXPECT_EQ(result->exit_code, 0) << result->stderr_data;
  std::vector<std::string> lines;
  size_t pos = 0;
  const std::string& text = result->stdout_data;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string line = text.substr(pos, end - pos);
    if (!line.empty() && line[0] == '\t') {
      lines.push_back(line);
    } else if (header != nullptr && header->empty()) {
      *header = line;
    }
    pos = end + 1;
  }
  return lines;
}

TEST(LdSoCache, LibcmpComparesNumbersNumerically) {
  EXPECT_EQ(dl_cache_libcmp("libc.so.6", "libc.so.6"), 0);
  EXPECT_LT(dl_cache_libcmp("libfoo.so.2", "libfoo.so.10"), 0);
  EXPECT_GT(dl_cache_libcmp("libfoo.so.10", "libfoo.so.9"), 0);
  EXPECT_GT(dl_cache_libcmp("libz.so", "liba.so"), 0);
  EXPECT_LT(dl_cache_libcmp("libc.so", "libc.so.6"), 0);
  EXPECT_GT(dl_cache_libcmp("lib1", "libx"), 0);  // digits sort after other chars
}

TEST(LdSoCache, HeaderLayoutAndDeterminism) {
  std::vector<CacheEntry> entries = {{"libb.so.1", "/lib/libb.so.1"},
                                     {"liba.so.1", "/lib/liba.so.1"}};
  auto cache = build_ld_so_cache(entries);
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  EXPECT_EQ(cache->substr(0, 20), "glibc-ld.so.cache1.1");
  EXPECT_EQ(static_cast<uint8_t>((*cache)[20]), 2u);  // nlibs (LE)
  EXPECT_EQ(static_cast<uint8_t>((*cache)[28]), 2u);  // endian_little
  EXPECT_EQ(cache->size(), 48u + 2 * 24 + 2 * (10 + 15));
  // The first entry is the greater soname (descending order); key points into the file.
  uint32_t key = static_cast<uint8_t>((*cache)[52]) | static_cast<uint8_t>((*cache)[53]) << 8;
  EXPECT_EQ(cache->substr(key, 9), "libb.so.1");
  std::reverse(entries.begin(), entries.end());
  auto again = build_ld_so_cache(entries);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *cache);
  auto big = build_ld_so_cache(entries, true);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(static_cast<uint8_t>((*big)[23]), 2u);
  EXPECT_EQ(static_cast<uint8_t>((*big)[28]), 3u);
}

TEST(LdSoCache, RejectsBadEntries) {
  EXPECT_FALSE(build_ld_so_cache({{"", "/lib/x"}}).ok());
  EXPECT_FALSE(build_ld_so_cache({{std::string("a\0b", 3), "/lib/x"}}).ok());
  EXPECT_FALSE(build_ld_so_cache({{"liba.so", "/lib/a"}, {"liba.so", "/usr/lib/a"}}).ok());
  auto empty = build_ld_so_cache({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 48u);
}

TEST(LdSoCache, LdconfigReadsTheHostLibraries) {
  if (ldconfig().empty()) {
    GTEST_SKIP() << "ldconfig not installed";
  }
  // The host's libraries, leaving out big ones (LLVM, ...) to keep the test fast.
  RootfsView host = directory_rootfs("/");
  RootfsView small = host;
  small.read_file = [host](const std::string& path) -> std::optional<std::string> {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec || size > (2u << 20)) {
      return std::nullopt;
    }
    return host.read_file(path);
  };
  auto entries = scan_cache_entries(small, {"/lib/x86_64-linux-gnu", "/usr/lib"});
  ASSERT_GT(entries.size(), 10u);
  bool has_libc = false;
  for (const auto& e : entries) {
    has_libc |= e.soname == "libc.so.6" && e.path == "/lib/x86_64-linux-gnu/libc.so.6";
  }
  EXPECT_TRUE(has_libc);
  auto cache = build_ld_so_cache(entries);
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  fs::path file = dir->path() / "ld.so.cache";
  ASSERT_TRUE(util::write_file_atomic(file, *cache).ok());
  std::string header;
  auto lines = ldconfig_print(file, &header);
  EXPECT_EQ(header,
            std::to_string(entries.size()) + " libs found in cache `" + file.string() + "'");
  ASSERT_EQ(lines.size(), entries.size());
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6"),
            lines.end());
}

TEST(LdSoCache, SameEntriesAsLdconfigOnATinyRoot) {
  if (ldconfig().empty() || ::geteuid() != 0) {
    GTEST_SKIP() << "needs ldconfig and root (ldconfig -r chroots)";
  }
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  fs::path root = dir->path();
  fs::path libdir = root / "usr/lib/x86_64-linux-gnu";
  fs::create_directories(libdir);
  fs::create_directories(root / "etc");
  fs::create_symlink("usr/lib", root / "lib");
  for (const char* lib : {"libc.so.6", "libz.so.1", "libm.so.6", "libpcre2-8.so.0",
                          "libselinux.so.1", "ld-linux-x86-64.so.2"}) {
    fs::path from = fs::path("/lib/x86_64-linux-gnu") / lib;
    if (!fs::exists(from)) {
      continue;
    }
    auto data = util::read_file(from);
    ASSERT_TRUE(data.ok());
    ASSERT_TRUE(util::write_file_atomic(libdir / lib, *data).ok());
  }
  std::ofstream(root / "etc/ld.so.conf") << "/usr/lib/x86_64-linux-gnu\n";
  auto run = util::run_command(
      {{ldconfig(), "-r", root.string(), "-X", "-C", "/etc/ld.so.cache.ldconfig"}});
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->exit_code, 0) << run->stderr_data;

  auto view = directory_rootfs(root);
  auto entries = scan_cache_entries(view, {"/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"});
  auto cache = build_ld_so_cache(entries);
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  ASSERT_TRUE(util::write_file_atomic(root / "etc/ld.so.cache", *cache).ok());

  auto theirs = ldconfig_print(root / "etc/ld.so.cache.ldconfig");
  auto ours = ldconfig_print(root / "etc/ld.so.cache");
  ASSERT_FALSE(theirs.empty());
  EXPECT_EQ(ours, theirs);  // same entries in the same (lookup) order
}

}  // namespace
}  // namespace distill::elf
