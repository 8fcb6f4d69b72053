// Tests for the library closure: a rootfs made of the host's real /bin/ls and its
// libraries, and constructed files for $ORIGIN, RPATH inheritance, ld.so.conf.d
// and machine mismatches.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "elf/library_closure.hpp"
#include "elf_builder.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::elf {
namespace {

namespace fs = std::filesystem;
using testing::build_elf;
using testing::ElfSpec;

class ClosureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-elf-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
  }
  fs::path root() const { return m_dir->path(); }
  void write(const std::string& path, const std::string& data) {
    fs::path host = root() / path.substr(1);
    fs::create_directories(host.parent_path());
    std::ofstream(host, std::ios::binary) << data;
  }
  void copy_host(const std::string& from, const std::string& to) {
    auto data = util::read_file(from);
    ASSERT_TRUE(data.ok()) << from;
    write(to, *data);
  }
  void symlink(const std::string& target, const std::string& path) {
    fs::path host = root() / path.substr(1);
    fs::create_directories(host.parent_path());
    fs::create_symlink(target, host);
  }
  // A merged-/usr rootfs holding the host's /bin/ls and its libraries.
  void make_ls_rootfs() {
    symlink("usr/lib", "/lib");
    symlink("usr/bin", "/bin");
    const std::string dir = "/usr/lib/x86_64-linux-gnu/";
    for (const char* lib :
         {"libc.so.6", "libselinux.so.1", "libpcre2-8.so.0", "ld-linux-x86-64.so.2"}) {
      copy_host("/lib/x86_64-linux-gnu/" + std::string(lib), dir + lib);
    }
    // Absolute link, as Debian ships it: must resolve inside the rootfs.
    symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2");
    symlink("usr/lib64", "/lib64");
    copy_host("/bin/ls", "/usr/bin/ls");
  }

  std::unique_ptr<util::TempDir> m_dir;
};

TEST_F(ClosureTest, HostLsIsComplete) {
  make_ls_rootfs();
  RootfsView view = directory_rootfs(root());
  auto closure = library_closure(view, {"/bin/ls"});
  ASSERT_TRUE(closure.ok()) << closure.error().message;
  EXPECT_TRUE(closure->missing.empty()) << closure->missing.front().soname;
  EXPECT_EQ(closure->found.at("libc.so.6"), "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(closure->found.at("libselinux.so.1"), "/lib/x86_64-linux-gnu/libselinux.so.1");
  // Needed by libselinux, not by ls: found through recursion.
  EXPECT_EQ(closure->found.at("libpcre2-8.so.0"), "/lib/x86_64-linux-gnu/libpcre2-8.so.0");
  EXPECT_EQ(closure->found.count("/lib64/ld-linux-x86-64.so.2"), 1u);
  // The interpreter also satisfies DT_NEEDED entries on its soname.
  EXPECT_EQ(closure->found.at("ld-linux-x86-64.so.2"), "/lib64/ld-linux-x86-64.so.2");
}

TEST_F(ClosureTest, MissingLibraryNamesWhoNeedsIt) {
  make_ls_rootfs();
  fs::remove(root() / "usr/lib/x86_64-linux-gnu/libpcre2-8.so.0");
  fs::remove(root() / "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  auto closure = library_closure(directory_rootfs(root()), {"/usr/bin/ls"});
  ASSERT_TRUE(closure.ok()) << closure.error().message;
  ASSERT_EQ(closure->missing.size(), 4u);
  EXPECT_EQ(closure->missing[0].soname, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(closure->missing[0].needed_by, "/usr/bin/ls");
  EXPECT_EQ(closure->missing[1].soname, "ld-linux-x86-64.so.2");  // libc needs it
  EXPECT_EQ(closure->missing[1].needed_by, "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(closure->missing[2].soname, "ld-linux-x86-64.so.2");
  EXPECT_EQ(closure->missing[2].needed_by, "/lib/x86_64-linux-gnu/libselinux.so.1");
  EXPECT_EQ(closure->missing[3].soname, "libpcre2-8.so.0");
  EXPECT_EQ(closure->missing[3].needed_by, "/lib/x86_64-linux-gnu/libselinux.so.1");
}

TEST_F(ClosureTest, OriginRunpathAndConfDirs) {
  ElfSpec app;
  app.type = 2;
  app.needed = {"libapp.so.1", "libconf.so.2"};
  app.runpath = "$ORIGIN/../lib";
  write("/app/bin/server", build_elf(app));
  ElfSpec libapp;
  libapp.soname = "libapp.so.1";
  libapp.needed = {"libdeep.so.3"};
  libapp.runpath = "${ORIGIN}/deep";
  write("/app/lib/libapp.so.1", build_elf(libapp));
  ElfSpec leaf;
  leaf.soname = "libdeep.so.3";
  write("/app/lib/deep/libdeep.so.3", build_elf(leaf));
  leaf.soname = "libconf.so.2";
  write("/opt/vendor/lib/libconf.so.2", build_elf(leaf));
  write("/etc/ld.so.conf", "# comment\ninclude /etc/ld.so.conf.d/*.conf\n");
  write("/etc/ld.so.conf.d/vendor.conf", "/opt/vendor/lib/\n");
  write("/etc/ld.so.conf.d/ignored.txt", "/nowhere\n");

  RootfsView view = directory_rootfs(root());
  auto dirs = library_search_dirs(view, "x86_64-linux-gnu");
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs[0], "/opt/vendor/lib");
  EXPECT_EQ(std::count(dirs.begin(), dirs.end(), "/nowhere"), 0);
  EXPECT_EQ(dirs[1], "/lib/x86_64-linux-gnu");

  auto closure = library_closure(view, {"/app/bin/server"});
  ASSERT_TRUE(closure.ok()) << closure.error().message;
  EXPECT_TRUE(closure->missing.empty());
  EXPECT_EQ(closure->found.at("libapp.so.1"), "/app/bin/../lib/libapp.so.1");
  EXPECT_EQ(closure->found.at("libdeep.so.3"), "/app/bin/../lib/deep/libdeep.so.3");
  EXPECT_EQ(closure->found.at("libconf.so.2"), "/opt/vendor/lib/libconf.so.2");
}

TEST_F(ClosureTest, RpathIsInheritedButRunpathIsNot) {
  ElfSpec app;
  app.type = 2;
  app.needed = {"libmid.so"};
  app.rpath = "/private";
  write("/bin/app", build_elf(app));
  ElfSpec mid;
  mid.soname = "libmid.so";
  mid.needed = {"libleaf.so"};
  write("/private/libmid.so", build_elf(mid));
  ElfSpec leaf;
  leaf.soname = "libleaf.so";
  write("/private/libleaf.so", build_elf(leaf));
  auto closure = library_closure(directory_rootfs(root()), {"/bin/app"});
  ASSERT_TRUE(closure.ok()) << closure.error().message;
  EXPECT_TRUE(closure->missing.empty());
  EXPECT_EQ(closure->found.at("libleaf.so"), "/private/libleaf.so");

  app.rpath.clear();
  app.runpath = "/private";
  write("/bin/app2", build_elf(app));
  write("/bin/app", "");  // only app2 now
  auto with_runpath = library_closure(directory_rootfs(root()), {"/bin/app2"});
  ASSERT_TRUE(with_runpath.ok()) << with_runpath.error().message;
  ASSERT_EQ(with_runpath->missing.size(), 1u);
  EXPECT_EQ(with_runpath->missing[0].soname, "libleaf.so");
}

TEST_F(ClosureTest, WrongMachineCandidateIsSkipped) {
  ElfSpec app;
  app.type = 2;
  app.needed = {"libx.so.1"};
  write("/bin/app", build_elf(app));
  ElfSpec arm;
  arm.machine = k_em_aarch64;
  arm.soname = "libx.so.1";
  write("/lib/x86_64-linux-gnu/libx.so.1", build_elf(arm));
  ElfSpec right;
  right.soname = "libx.so.1";
  write("/usr/lib/libx.so.1", build_elf(right));
  auto closure = library_closure(directory_rootfs(root()), {"/bin/app"});
  ASSERT_TRUE(closure.ok()) << closure.error().message;
  EXPECT_EQ(closure->found.at("libx.so.1"), "/usr/lib/libx.so.1");
}

TEST_F(ClosureTest, SymlinksCannotEscapeTheRoot) {
  ElfSpec app;
  app.type = 2;
  app.needed = {"libc.so.6"};
  write("/bin/app", build_elf(app));
  // ../../../../lib would leave the temp dir on a host; inside the rootfs it is /lib.
  symlink("../../../../../../../../lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu");
  auto closure = library_closure(directory_rootfs(root()), {"/bin/app"});
  ASSERT_TRUE(closure.ok()) << closure.error().message;
  ASSERT_EQ(closure->missing.size(), 1u);
  EXPECT_EQ(closure->missing[0].soname, "libc.so.6");
}

TEST_F(ClosureTest, ErrorsForAbsentOrNonElfRoots) {
  write("/bin/script", "#!/bin/sh\n");
  auto view = directory_rootfs(root());
  auto absent = library_closure(view, {"/bin/nothere"});
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().kind, ErrorKind::NotFound);
  EXPECT_FALSE(library_closure(view, {"/bin/script"}).ok());
  auto none = library_closure(view, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->found.empty());
}

}  // namespace
}  // namespace distill::elf
