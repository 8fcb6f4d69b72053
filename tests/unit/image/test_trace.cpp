// `trace:` through the whole pipeline: ELF programs made by the tests' ELF
// writer, a signed repository whose packages carry ELF libraries and which
// publishes a Contents index (fake_repository.hpp), plan and execute.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "../elf/elf_builder.hpp"
#include "fake_repository.hpp"
#include "image/build.hpp"
#include "pipeline_test.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using testing::FakePackage;
using testing::FakeRepository;
using testing::MapHttp;

constexpr const char* k_interp = "/lib64/ld-linux-x86-64.so.2";
constexpr const char* k_libdir = "lib/x86_64-linux-gnu/";

std::string library(const std::string& soname, std::vector<std::string> needed = {}) {
  elf::testing::ElfSpec spec;
  spec.soname = soname;
  spec.needed = std::move(needed);
  return elf::testing::build_elf(spec);
}

// A program as gcc links it: the interpreter, then its DT_NEEDED.
std::string program(std::vector<std::string> needed, const std::string& runpath = "") {
  elf::testing::ElfSpec spec;
  spec.interpreter = k_interp;
  spec.needed = std::move(needed);
  spec.runpath = runpath;
  return elf::testing::build_elf(spec);
}

std::vector<FakePackage> packages() {
  std::string dir = k_libdir;
  return {
      {"base-files", "12.4", "amd64", "", {{"etc/debian_version", "12.4\n"}}},
      {"netbase", "6.4", "all", "", {{"etc/protocols", "ip 0 IP\n"}}},
      {"tzdata", "2024a", "all", "", {{"usr/share/zoneinfo/UTC", "TZif2"}}},
      {"media-types", "10.0", "all", "", {{"etc/mime.types", "text/plain txt\n"}}},
      {"ca-certificates", "20230311", "all", "", {{"usr/share/ca-certificates/x", "x"}}},
      // Both the interpreter and libc in one package, as in Debian.
      {"libc6",
       "2.36-9",
       "amd64",
       "",
       {{dir + "ld-linux-x86-64.so.2", library("ld-linux-x86-64.so.2"), 0755},
        {dir + "libc.so.6", library("libc.so.6", {"ld-linux-x86-64.so.2"}), 0755}}},
      {"libssl3", "3.0.11", "amd64", "libc6", {{"usr/share/doc/libssl3/copyright", "ssl\n"}}},
      {"libfoo1", "1.0", "amd64", "libc6", {{dir + "libfoo.so.1", library("libfoo.so.1"), 0755}}},
      {"libbar2",
       "1.0",
       "amd64",
       "libc6",
       {{dir + "libbar.so.2", library("libbar.so.2", {"libc.so.6"}), 0755}}},
      // Listed in the Contents index for libgone.so.3 (extra_contents), but
      // its .deb does not have it.
      {"libgone3", "1.0", "amd64", "", {{"usr/share/doc/libgone3/copyright", "gone\n"}}},
  };
}

class Trace : public testing::PipelineTest {
 protected:
  void SetUp() override {
    m_repo.with_contents = true;
    m_repo.extra_contents = std::string(k_libdir) + "libgone.so.3    libs/libgone3\n";
    open(packages(), "distill-trace-");
  }

  BuildRequest request(const fs::path& spec) { return PipelineTest::request({spec.string()}); }

  // The names of the packages of the one image `spec` builds, or the error.
  Result<std::vector<std::string>> build(const fs::path& spec) {
    DISTILL_TRY(auto results, build_images(request(spec), *m_env));
    std::vector<std::string> names;
    for (const auto& p : results.at(0).packages.at("amd64")) {
      names.push_back(p.name);
    }
    return names;
  }

  static bool has(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  }
};

// On `from: static` nothing provides the interpreter or libc.so.6: both come
// from libc6, which the same round adds once for the two of them.
TEST_F(Trace, OnePackageForSeveralLibrariesOfOneRound) {
  write("app/happ", program({"libc.so.6"}));
  auto spec = write("hs.yaml",
                    "name: hs\nfrom: static\n"
                    "files: [{src: app/happ, dst: /app/happ, mode: \"0755\"}]\n"
                    "trace: [/app/happ]\n");
  auto names = build(spec);
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_TRUE(has(*names, "libc6"));
}

// A package added in an earlier round that still lacks the library it was
// added for is named.
TEST_F(Trace, PackageThatDidNotProvideTheLibrary) {
  write("app/gapp", program({"libgone.so.3"}));
  auto spec = write("gone.yaml",
                    "name: gone\nfrom: base\n"
                    "files: [{src: app/gapp, dst: /app/gapp, mode: \"0755\"}]\n"
                    "trace: [/app/gapp]\n");
  auto names = build(spec);
  ASSERT_FALSE(names.ok());
  EXPECT_EQ(names.error().message,
            (m_work->path() / "gone.yaml").string() +
                ":4: /app/gapp needs libgone.so.3, and package libgone3 did not provide it");
}

// A library the spec ships beside its program (a directory of `files:`) is
// present: its package is not added, but what the library itself needs is.
TEST_F(Trace, LibrariesOfFilesCountAsPresent) {
  write("app/bin/mapp", program({"libfoo.so.1", "libc.so.6"}, "$ORIGIN/../lib"));
  write("app/lib/libfoo.so.1.0", library("libfoo.so.1", {"libbar.so.2"}));
  fs::create_symlink("libfoo.so.1.0", m_work->path() / "app/lib/libfoo.so.1");
  auto spec = write("ms.yaml",
                    "name: ms\nfrom: base\nfiles:\n"
                    "  - {src: app/bin/mapp, dst: /app/bin/mapp, mode: \"0755\"}\n"
                    "  - {src: app/lib, dst: /app/lib}\n"
                    "trace: [/app/bin/mapp]\n");
  auto names = build(spec);
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_FALSE(has(*names, "libfoo1"));
  EXPECT_TRUE(has(*names, "libbar2"));
}

// Without the library in `files:`, the package that ships it is added.
TEST_F(Trace, LibraryNotShippedComesFromItsPackage) {
  write("app/bin/mapp", program({"libfoo.so.1", "libc.so.6"}, "$ORIGIN/../lib"));
  auto spec = write("mp.yaml",
                    "name: mp\nfrom: base\nfiles:\n"
                    "  - {src: app/bin/mapp, dst: /app/bin/mapp, mode: \"0755\"}\n"
                    "trace: [/app/bin/mapp]\n");
  auto names = build(spec);
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_TRUE(has(*names, "libfoo1"));
  EXPECT_FALSE(has(*names, "libbar2"));
}

}  // namespace
}  // namespace distill::image
