// Tests for unpack_layers: OCI layer semantics (replacement, whiteouts, opaque
// directories, hard links, metadata) and confinement to the rootfs against
// hostile symlinks. Every test runs with openat2 and with the portable walk.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "layer_builder.hpp"
#include "runtime/root_dir.hpp"
#include "runtime/rootfs_unpacker.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::runtime {
namespace {

namespace fs = std::filesystem;
using testing::LayerEntry;
using testing::write_layer;

class UnpackTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-unpack-test-");
    ASSERT_TRUE(dir.ok());
    m_dir.emplace(std::move(*dir));
    m_rootfs = m_dir->path() / "rootfs";
    fs::create_directory(m_rootfs);
    // A unique name, so checks against the host's /etc and /tmp are meaningful.
    m_unique = "distill-escape-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : m_unique) {
      if (c == '/') {
        c = '_';
      }
    }
  }

  void TearDown() override {
    EXPECT_FALSE(fs::exists(fs::path("/etc") / m_unique, m_ec)) << "wrote into the host's /etc";
    EXPECT_FALSE(fs::exists(fs::path("/tmp") / m_unique, m_ec)) << "wrote into the host's /tmp";
  }

  fs::path layer(const std::vector<LayerEntry>& entries, bool gzip = false) {
    fs::path path = m_dir->path() / ("layer" + std::to_string(m_layers++) + ".tar");
    std::string problem = write_layer(path, entries, gzip);
    EXPECT_EQ(problem, "");
    return path;
  }

  Status unpack(const std::vector<fs::path>& layers) {
    UnpackOptions options;
    options.allow_openat2 = GetParam();
    return unpack_layers(layers, m_rootfs, options);
  }

  std::string read(const std::string& rel) {
    auto data = util::read_file(m_rootfs / rel);
    return data.ok() ? *data : "<" + data.error().message + ">";
  }

  struct stat lstat_of(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat((m_rootfs / rel).c_str(), &st), 0) << rel;
    return st;
  }

  std::optional<util::TempDir> m_dir;
  fs::path m_rootfs;
  std::string m_unique;
  int m_layers = 0;
  std::error_code m_ec;
};

TEST_P(UnpackTest, EntryTypesAndMetadata) {
  auto l = layer({
      {.name = "usr", .type = "dir", .mode = 0755, .mtime = 1000},
      {.name = "usr/bin", .type = "dir", .mode = 0755, .mtime = 1001},
      {.name = "usr/bin/tool", .content = "#!tool\n", .mode = 04755, .uid = 0, .mtime = 1234},
      {.name = "usr/bin/alias", .type = "symlink", .target = "tool", .mtime = 1235},
      {.name = "usr/bin/hard", .type = "link", .target = "usr/bin/tool"},
      {.name = "tmp", .type = "dir", .mode = 01777},
      {.name = "home/nonroot", .type = "dir", .mode = 0700, .uid = 65532, .gid = 65532},
      {.name = "home/nonroot/.profile", .content = "x", .mode = 0600, .uid = 65532, .gid = 65532},
      {.name = "run/fifo", .type = "fifo", .mode = 0620},
      {.name = "shared", .type = "dir", .mode = 02775, .gid = 50},
      {.name = "readonly", .type = "dir", .mode = 0555, .mtime = 42},
      {.name = "readonly/inside", .content = "ok"},
  });
  Status status = unpack({l});
  ASSERT_TRUE(status.ok()) << status.error().message;

  EXPECT_EQ(read("usr/bin/tool"), "#!tool\n");
  struct stat tool = lstat_of("usr/bin/tool");
  EXPECT_TRUE(S_ISREG(tool.st_mode));
  EXPECT_EQ(tool.st_mode & 07777, 04755u);  // setuid kept: mode set after chown
  EXPECT_EQ(tool.st_mtime, 1234);
  EXPECT_EQ(fs::read_symlink(m_rootfs / "usr/bin/alias"), "tool");
  EXPECT_EQ(lstat_of("usr/bin/alias").st_mtime, 1235);
  struct stat hard = lstat_of("usr/bin/hard");
  EXPECT_EQ(hard.st_ino, tool.st_ino);
  EXPECT_EQ(tool.st_nlink, 2u);
  EXPECT_EQ(lstat_of("tmp").st_mode & 07777, 01777u);
  EXPECT_EQ(lstat_of("shared").st_mode & 07777, 02775u);  // setgid dir survives chown
  EXPECT_TRUE(S_ISFIFO(lstat_of("run/fifo").st_mode));
  EXPECT_EQ(lstat_of("run/fifo").st_mode & 07777, 0620u);
  // Implicit parents ("run", "home") are created.
  EXPECT_TRUE(S_ISDIR(lstat_of("run").st_mode));
  struct stat readonly = lstat_of("readonly");
  EXPECT_EQ(readonly.st_mode & 07777, 0555u);
  EXPECT_EQ(readonly.st_mtime, 42);  // applied after its children were created
  EXPECT_EQ(read("readonly/inside"), "ok");
  EXPECT_EQ(lstat_of("usr").st_mtime, 1000);
  if (::geteuid() == 0) {
    struct stat home = lstat_of("home/nonroot");
    EXPECT_EQ(home.st_uid, 65532u);
    EXPECT_EQ(home.st_gid, 65532u);
    EXPECT_EQ(home.st_mode & 07777, 0700u);
    EXPECT_EQ(lstat_of("home/nonroot/.profile").st_uid, 65532u);
  }
}

TEST_P(UnpackTest, GzipLayersAndLaterLayersReplace) {
  auto lower = layer(
      {
          {.name = "a", .content = "file a"},
          {.name = "b/inner", .content = "in b"},
          {.name = "c", .type = "symlink", .target = "/nowhere"},
          {.name = "d", .content = "old d", .mode = 0600},
      },
      true);
  auto upper = layer(
      {
          {.name = "a", .type = "dir"},  // "a" was a file: now a directory
          {.name = "a/now-a-dir", .type = "dir"},
          {.name = "b", .content = "b is a file now"},
          {.name = "c", .content = "c replaced the symlink"},
          {.name = "d", .content = "new d", .mode = 0640},
      },
      true);
  Status status = unpack({lower, upper});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(S_ISDIR(lstat_of("a").st_mode));
  EXPECT_TRUE(S_ISDIR(lstat_of("a/now-a-dir").st_mode));
  EXPECT_EQ(read("b"), "b is a file now");
  EXPECT_TRUE(S_ISREG(lstat_of("c").st_mode));
  EXPECT_EQ(read("c"), "c replaced the symlink");
  EXPECT_EQ(read("d"), "new d");
  EXPECT_EQ(lstat_of("d").st_mode & 07777, 0640u);
}

TEST_P(UnpackTest, DirectoryEntryReplacesFile) {
  auto lower = layer({{.name = "x", .content = "file"}});
  auto upper = layer({{.name = "x", .type = "dir", .mode = 0750}});
  ASSERT_TRUE(unpack({lower, upper}).ok());
  EXPECT_TRUE(S_ISDIR(lstat_of("x").st_mode));
  EXPECT_EQ(lstat_of("x").st_mode & 07777, 0750u);
}

TEST_P(UnpackTest, WhiteoutsDeleteLowerEntries) {
  auto lower = layer({
      {.name = "etc/keep", .content = "k"},
      {.name = "etc/gone", .content = "g"},
      {.name = "var/cache/apt/a", .content = "1"},
      {.name = "var/cache/apt/sub/b", .content = "2"},
  });
  auto upper = layer({
      {.name = "etc/.wh.gone", .content = ""},
      {.name = "var/cache/.wh.apt", .content = ""},
      {.name = "etc/.wh.never-existed", .content = ""},
      {.name = "missing-dir/.wh.x", .content = ""},
  });
  Status status = unpack({lower, upper});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read("etc/keep"), "k");
  EXPECT_FALSE(fs::exists(m_rootfs / "etc/gone"));
  EXPECT_FALSE(fs::exists(m_rootfs / "var/cache/apt"));
  EXPECT_TRUE(fs::exists(m_rootfs / "var/cache"));
  // Whiteout markers are never materialised.
  EXPECT_FALSE(fs::exists(m_rootfs / "etc/.wh.gone"));
  EXPECT_FALSE(fs::exists(m_rootfs / "etc/.wh.never-existed"));
  EXPECT_FALSE(fs::exists(m_rootfs / "missing-dir"));
}

TEST_P(UnpackTest, WhiteoutNeverHidesItsOwnLayer) {
  auto only = layer({
      {.name = "f", .content = "same layer"},
      {.name = ".wh.f", .content = ""},
  });
  ASSERT_TRUE(unpack({only}).ok());
  EXPECT_EQ(read("f"), "same layer");
}

TEST_P(UnpackTest, OpaqueDirectoryHidesLowerContentOnly) {
  auto lower = layer({
      {.name = "d/old", .content = "old"},
      {.name = "d/sub/old2", .content = "old2"},
      {.name = "d/kept-dir/lower-file", .content = "lower"},
      {.name = "other/x", .content = "x"},
  });
  auto upper = layer({
      {.name = "d/early", .content = "written before the marker"},
      {.name = "d/kept-dir", .type = "dir"},
      {.name = "d/.wh..wh..opq", .content = ""},
      {.name = "d/new", .content = "new"},
      {.name = "d/kept-dir/upper-file", .content = "upper"},
  });
  Status status = unpack({lower, upper});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(fs::exists(m_rootfs / "d/old"));
  EXPECT_FALSE(fs::exists(m_rootfs / "d/sub"));
  EXPECT_EQ(read("d/early"), "written before the marker");
  EXPECT_EQ(read("d/new"), "new");
  EXPECT_TRUE(fs::is_directory(m_rootfs / "d/kept-dir"));
  EXPECT_FALSE(fs::exists(m_rootfs / "d/kept-dir/lower-file"));
  EXPECT_EQ(read("d/kept-dir/upper-file"), "upper");
  EXPECT_FALSE(fs::exists(m_rootfs / "d/.wh..wh..opq"));
  EXPECT_EQ(read("other/x"), "x");
}

TEST_P(UnpackTest, AbsoluteSymlinkDirectoryStaysInsideRoot) {
  // usr/lib -> /etc, then usr/lib/<unique>: must land in <rootfs>/etc, not /etc.
  auto l = layer({
      {.name = "etc", .type = "dir"},
      {.name = "usr/lib", .type = "symlink", .target = "/etc"},
      {.name = "usr/lib/" + m_unique, .content = "contained"},
  });
  Status status = unpack({l});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read("etc/" + m_unique), "contained");
  EXPECT_TRUE(fs::is_symlink(m_rootfs / "usr/lib"));
}

TEST_P(UnpackTest, SymlinkInLowerLayerStaysInsideRoot) {
  auto lower = layer({{.name = "usr/lib", .type = "symlink", .target = "/etc"}});
  auto upper = layer({{.name = "usr/lib/" + m_unique, .content = "contained"}});
  Status status = unpack({lower, upper});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read("etc/" + m_unique), "contained");
}

TEST_P(UnpackTest, DotDotInLinkTargetIsClampedAtRoot) {
  auto l = layer({
      {.name = "a/b/up", .type = "symlink", .target = "../../../../../../../../tmp"},
      {.name = "a/b/up/" + m_unique, .content = "clamped"},
  });
  Status status = unpack({l});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read("tmp/" + m_unique), "clamped");
}

TEST_P(UnpackTest, AbsoluteSymlinkChains) {
  auto l = layer({
      {.name = "l1", .type = "symlink", .target = "/l2"},
      {.name = "l2", .type = "symlink", .target = "/target/../target/./dir"},
      {.name = "target/dir", .type = "dir"},
      {.name = "l1/" + m_unique, .content = "chained"},
      {.name = "loop-a", .type = "symlink", .target = "/loop-b"},
      {.name = "loop-b", .type = "symlink", .target = "loop-a"},
  });
  Status status = unpack({l});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read("target/dir/" + m_unique), "chained");
  auto looped = layer({{.name = "loop-a/file", .content = "never"}});
  Status loop_status = unpack({looped});
  ASSERT_FALSE(loop_status.ok());
  EXPECT_NE(loop_status.error().message.find("loop-a/file"), std::string::npos);
}

TEST_P(UnpackTest, FinalSymlinkIsReplacedNotFollowed) {
  auto lower = layer({{.name = "evil", .type = "symlink", .target = "/etc/" + m_unique}});
  auto upper = layer({{.name = "evil", .content = "replaces the link"}});
  Status status = unpack({lower, upper});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(S_ISREG(lstat_of("evil").st_mode));
  EXPECT_EQ(read("evil"), "replaces the link");
}

TEST_P(UnpackTest, HardLinkTargetResolvedInsideRoot) {
  // hostetc -> /etc; a hard link to hostetc/passwd must not reach the host's file.
  auto l = layer({
      {.name = "hostetc", .type = "symlink", .target = "/etc"},
      {.name = "stolen", .type = "link", .target = "hostetc/passwd"},
  });
  Status status = unpack({l});
  if (status.ok()) {
    struct stat host {};
    ASSERT_EQ(::stat("/etc/passwd", &host), 0);
    EXPECT_NE(lstat_of("stolen").st_ino, host.st_ino);
  } else {
    EXPECT_NE(status.error().message.find("stolen"), std::string::npos);
  }
}

TEST_P(UnpackTest, HardLinkToSymlinkLinksTheSymlinkItself) {
  auto l = layer({
      {.name = "etc", .type = "dir"},
      {.name = "sl", .type = "symlink", .target = "/etc"},
      {.name = "hl", .type = "link", .target = "sl"},
  });
  Status status = unpack({l});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(fs::is_symlink(m_rootfs / "hl"));
  EXPECT_EQ(lstat_of("hl").st_ino, lstat_of("sl").st_ino);
}

TEST_P(UnpackTest, ErrorsNameLayerAndEntry) {
  auto l = layer({
      {.name = "file", .content = "a regular file"},
      {.name = "file/child", .content = "cannot live under a file"},
  });
  Status status = unpack({l});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(l.string()), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("file/child"), std::string::npos);
  auto missing = unpack({m_dir->path() / "no-such-layer.tar"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no-such-layer.tar"), std::string::npos);
}

TEST_P(UnpackTest, DeviceNodesOnlyAsRoot) {
  auto l = layer({{.name = "dev/null", .type = "chr", .mode = 0666, .major = 1, .minor = 3}});
  Status status = unpack({l});
  if (::geteuid() != 0) {
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, ErrorKind::Unsupported);
    return;
  }
  if (!status.ok() && status.error().message.find("Operation not permitted") != std::string::npos) {
    GTEST_SKIP() << "mknod is not permitted here: " << status.error().message;
  }
  ASSERT_TRUE(status.ok()) << status.error().message;
  struct stat st = lstat_of("dev/null");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
}

INSTANTIATE_TEST_SUITE_P(Resolution, UnpackTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("openat2") : std::string("walk");
                         });

TEST(RootDir, SplitDropsEmptyAndDot) {
  EXPECT_EQ(RootDir::split("./a//b/./c/"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(RootDir::split("/../x"), (std::vector<std::string>{"..", "x"}));
  EXPECT_TRUE(RootDir::split("/").empty());
}

}  // namespace
}  // namespace distill::runtime

namespace distill::runtime {
namespace {

TEST(RootDir, ReadFileFollowsLinksInsideRootBothWays) {
  auto dir = util::TempDir::create("distill-rootdir-test-");
  ASSERT_TRUE(dir.ok());
  fs::path root = dir->path();
  fs::create_directories(root / "etc");
  ASSERT_TRUE(util::write_file_atomic(root / "etc/real", "inside").ok());
  fs::create_symlink("/etc/real", root / "etc/abs");
  fs::create_symlink("../../../../etc/abs", root / "etc/rel");
  fs::create_symlink("/etc", root / "etcdir");
  ::mkfifo((root / "etc/fifo").c_str(), 0600);
  for (bool allow_openat2 : {true, false}) {
    auto rootdir = RootDir::open(root, allow_openat2);
    ASSERT_TRUE(rootdir.ok());
    for (const char* path : {"etc/real", "etc/abs", "/etc/rel", "etcdir/rel"}) {
      auto data = rootdir->read_file(path);
      ASSERT_TRUE(data.ok()) << path << ": " << data.error().message;
      EXPECT_EQ(*data, "inside") << path;
    }
    // The host's /etc/hostname exists, the rootfs's does not.
    auto host = rootdir->read_file("etcdir/hostname");
    ASSERT_FALSE(host.ok());
    EXPECT_EQ(host.error().kind, ErrorKind::NotFound);
    // A FIFO is refused, not waited on.
    EXPECT_FALSE(rootdir->read_file("etc/fifo").ok());
  }
}

}  // namespace
}  // namespace distill::runtime
