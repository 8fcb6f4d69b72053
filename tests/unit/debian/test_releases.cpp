// Debian releases: version numbers, the buildable set, the host's own release.
#include <gtest/gtest.h>

#include "debian/releases.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::debian {
namespace {

TEST(Releases, VersionIds) {
  EXPECT_EQ(version_id("bullseye"), "11");
  EXPECT_EQ(version_id("bookworm"), "12");
  EXPECT_EQ(version_id("trixie"), "13");
  EXPECT_EQ(version_id("sid"), "");
  EXPECT_EQ(version_id(""), "");
}

TEST(Releases, BuildableAreBookwormAndTrixieNewestLast) {
  EXPECT_TRUE(is_buildable_release("bookworm"));
  EXPECT_TRUE(is_buildable_release("trixie"));
  EXPECT_FALSE(is_buildable_release("bullseye"));
  EXPECT_FALSE(is_buildable_release("sid"));
  EXPECT_EQ(buildable_releases_text(), "bookworm, trixie");
  EXPECT_EQ(newest_stable_release(), "trixie");
}

// Debian 13's base-files makes bin, lib and sbin links into usr/ (and lib64
// on amd64); Debian 12's packages ship those as directories.
TEST(Releases, MergedUsrLinksFromDebian13) {
  using Links = std::vector<std::pair<std::string, std::string>>;
  EXPECT_TRUE(merged_usr_links("bookworm", "amd64").empty());
  EXPECT_TRUE(merged_usr_links("sid-unknown", "amd64").empty());
  EXPECT_EQ(merged_usr_links("trixie", "arm64"),
            (Links{{"bin", "usr/bin"}, {"lib", "usr/lib"}, {"sbin", "usr/sbin"}}));
  EXPECT_EQ(
      merged_usr_links("trixie", "amd64"),
      (Links{
          {"bin", "usr/bin"}, {"lib", "usr/lib"}, {"sbin", "usr/sbin"}, {"lib64", "usr/lib64"}}));
  EXPECT_EQ(merged_usr_links("forky", "riscv64").size(), 3u);
  EXPECT_EQ(merged_usr_links("trixie", "i386").size(), 3u);
  EXPECT_EQ(merged_usr_links("trixie", "ppc64el").back(),
            (std::pair<std::string, std::string>{"lib64", "usr/lib64"}));
}

// What base-files ships other than 0755 root, as its .debs hold it.
TEST(Releases, BaseFilesDirectoriesOtherThan0755Root) {
  auto find = [](std::string_view codename, std::string_view path) -> ShippedDirectory {
    for (const auto& dir : base_files_directories(codename)) {
      if (dir.path == path) {
        return dir;
      }
    }
    return {"", 0, 99, 99};
  };
  for (std::string_view codename : {"bookworm", "trixie"}) {
    EXPECT_EQ(find(codename, "var/tmp").mode, 01777u) << codename;
    EXPECT_EQ(find(codename, "var/lock").mode, 01777u) << codename;
    EXPECT_EQ(find(codename, "tmp").mode, 01777u) << codename;
    EXPECT_EQ(find(codename, "root").mode, 0700u) << codename;
  }
  ShippedDirectory local = find("bookworm", "var/local");
  EXPECT_EQ(local.mode, 02775u);
  EXPECT_EQ(local.gid, 50u);
  EXPECT_TRUE(find("trixie", "var/local").path.empty());
  EXPECT_TRUE(base_files_directories("sid-unknown").empty());
}

TEST(Releases, ParseOsReleaseUnquotesAndSkipsComments) {
  OsRelease os = parse_os_release(
      "ID=debian\nVERSION_ID=\"13\"\n# c\nVERSION_CODENAME=trixie\n"
      "PRETTY_NAME='Debian GNU/Linux 13 (trixie)'\n");
  EXPECT_EQ(os.id, "debian");
  EXPECT_EQ(os.version_id, "13");
  EXPECT_EQ(os.version_codename, "trixie");
  EXPECT_EQ(os.pretty_name, "Debian GNU/Linux 13 (trixie)");
}

class HostRelease : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-host-release-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    std::filesystem::create_directories(root() / "etc");
    std::filesystem::create_directories(root() / "usr/lib");
  }
  [[nodiscard]] std::filesystem::path root() const { return m_dir->path(); }
  void write(const std::string& path, const std::string& text) const {
    ASSERT_TRUE(util::write_file_atomic(root() / path, text).ok());
  }

 private:
  std::unique_ptr<util::TempDir> m_dir;
};

TEST_F(HostRelease, ABookwormHostBuildsBookwormByDefault) {
  write("etc/os-release", "ID=debian\nVERSION_CODENAME=bookworm\n");
  EXPECT_EQ(host_release(root()), "bookworm");
  EXPECT_EQ(default_release(root()), "bookworm");
}

TEST_F(HostRelease, UsrLibOsReleaseIsReadWhenEtcHasNone) {
  write("usr/lib/os-release", "ID=debian\nVERSION_CODENAME=trixie\n");
  EXPECT_EQ(host_release(root()), "trixie");
}

TEST_F(HostRelease, AnotherDistributionOrAnUnknownReleaseGivesTheNewestStable) {
  write("etc/os-release", "ID=ubuntu\nVERSION_CODENAME=noble\n");
  EXPECT_EQ(host_release(root()), std::nullopt);
  EXPECT_EQ(default_release(root()), "trixie");
  write("etc/os-release", "ID=debian\nVERSION_CODENAME=sid\n");
  EXPECT_EQ(default_release(root()), "trixie");
}

TEST_F(HostRelease, NoOsReleaseGivesTheNewestStable) {
  EXPECT_EQ(host_release(root()), std::nullopt);
  EXPECT_EQ(default_release(root()), "trixie");
}

}  // namespace
}  // namespace distill::debian
