// ImageView: OCI whiteouts and opaque directories, replacement, symlinked parents,
// reading contents through symlinks and hard links, Go FileMode strings, platform
// selection.
#include <gtest/gtest.h>

#include <tuple>

#include "check/image_view.hpp"
#include "test_image.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

class ImageViewTest : public ::testing::Test {
 protected:
  void SetUp() override { m_dir = std::make_unique<util::TempDir>(*util::TempDir::create()); }

  ImageView load(const std::vector<std::vector<Entry>>& layers) {
    std::vector<fs::path> files;
    for (size_t i = 0; i < layers.size(); ++i) {
      fs::path file = m_dir->path() / ("l" + std::to_string(m_count++) + ".tar.gz");
      write_layer(file, layers[i]);
      files.push_back(file);
    }
    auto view = ImageView::load(files, "test");
    EXPECT_TRUE(view.ok()) << (view.ok() ? "" : view.error().message);
    return std::move(*view);
  }

  std::unique_ptr<util::TempDir> m_dir;
  int m_count = 0;
};

TEST_F(ImageViewTest, WhiteoutDeletesFileAndDirectoryTree) {
  ImageView view = load({
      {dir("a"), file("a/keep", "k"), file("a/gone", "g"), dir("d"), file("d/x", "x"), dir("d/sub"),
       file("d/sub/y", "y")},
      {file("a/.wh.gone", ""), file(".wh.d", "")},
  });
  EXPECT_NE(view.lstat("/a/keep"), nullptr);
  EXPECT_EQ(view.lstat("/a/gone"), nullptr);
  EXPECT_EQ(view.lstat("/d"), nullptr);
  EXPECT_EQ(view.lstat("/d/x"), nullptr);
  EXPECT_EQ(view.lstat("/d/sub/y"), nullptr);
  // Whiteout entries themselves never appear.
  for (const auto& [path, info] : view.files()) {
    EXPECT_EQ(path.find(".wh."), std::string::npos) << path;
  }
}

TEST_F(ImageViewTest, OpaqueDirectoryHidesOnlyLowerLayers) {
  ImageView view = load({
      {dir("etc"), file("etc/old", "1"), dir("etc/sub"), file("etc/sub/deep", "2")},
      {dir("etc"), file("etc/new", "3"), file("etc/.wh..wh..opq", "")},
  });
  EXPECT_EQ(view.lstat("/etc/old"), nullptr);
  EXPECT_EQ(view.lstat("/etc/sub"), nullptr);
  EXPECT_EQ(view.lstat("/etc/sub/deep"), nullptr);
  ASSERT_NE(view.lstat("/etc/new"), nullptr);
  EXPECT_EQ(*view.read_file("/etc/new"), "3");
  EXPECT_EQ(view.list_dir("/etc"), std::vector<std::string>{"new"});
}

TEST_F(ImageViewTest, WhiteoutThenRecreateInSameLayerKeepsNewEntry) {
  ImageView view = load({
      {file("f", "old")},
      {file(".wh.f", ""), file("f", "new")},
  });
  ASSERT_NE(view.lstat("/f"), nullptr);
  EXPECT_EQ(view.lstat("/f")->layer, 1U);
  EXPECT_EQ(*view.read_file("/f"), "new");
}

TEST_F(ImageViewTest, AWhiteoutAfterItsOwnLayerFilledTheDirectoryKeepsWhatThatLayerPut) {
  // The whiteout hides the lower layers only (umoci unpack: /a, /a/b, /a/b/g).
  ImageView view = load({
      {dir("a"), dir("a/b"), file("a/b/f", "lower")},
      {file("a/b/g", "same layer"), file("a/.wh.b", "")},
  });
  EXPECT_EQ(view.lstat("/a/b/f"), nullptr);
  ASSERT_NE(view.lstat("/a/b"), nullptr);
  EXPECT_TRUE(view.lstat("/a/b")->is_dir());
  EXPECT_EQ(*view.read_file("/a/b/g"), "same layer");
  EXPECT_EQ(view.list_dir("/a/b"), std::vector<std::string>{"g"});
}

TEST_F(ImageViewTest, FileReplacingDirectoryDropsChildren) {
  ImageView view = load({
      {dir("x"), file("x/child", "c")},
      {file("x", "now a file")},
  });
  ASSERT_NE(view.lstat("/x"), nullptr);
  EXPECT_FALSE(view.lstat("/x")->is_dir());
  EXPECT_EQ(view.lstat("/x/child"), nullptr);
  EXPECT_EQ(*view.read_file("/x"), "now a file");
}

TEST_F(ImageViewTest, ContentComesFromTheTopmostLayer) {
  ImageView view = load({
      {dir("etc"), file("etc/conf", "lower")},
      {file("etc/conf", "upper", 0600)},
  });
  EXPECT_EQ(*view.read_file("/etc/conf"), "upper");
  EXPECT_EQ(view.lstat("/etc/conf")->mode, 0600U);
  EXPECT_EQ(view.lstat("/etc/conf")->size, 5U);
}

// A layer may hold a name twice (tar appends, it does not replace): the view
// is the later entry's, its content too, read or kept while folding.
TEST_F(ImageViewTest, ANameTwiceInOneLayerReadsTheLaterEntry) {
  const std::vector<Entry> layer = {dir("etc"), file("etc/conf", "first, longer"),
                                    file("etc/conf", "second", 0600)};
  ImageView view = load({layer});
  EXPECT_EQ(view.lstat("/etc/conf")->size, 6U);
  EXPECT_EQ(*view.read_file("/etc/conf"), "second");

  fs::path file = m_dir->path() / "twice.tar.gz";
  write_layer(file, layer);
  auto keep = [](std::string_view tar_path) { return tar_path == "etc/conf"; };
  auto kept = ImageView::load({file}, "test", keep);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  fs::remove(file);
  EXPECT_EQ(*kept->read_file("/etc/conf"), "second");
}

TEST_F(ImageViewTest, PrefetchedFilesAreReadWithoutTheLayers) {
  ImageView view = load({
      {dir("etc"), file("etc/a", "lower a"), file("etc/b", "b")},
      {file("etc/a", "upper a"), symlink("etc/c", "b")},
  });
  auto keep = [](std::string_view p) { return p == "etc/a" || p == "etc/b" || p == "etc/missing"; };
  ASSERT_TRUE(view.prefetch(keep).ok());
  // The layers are gone: what was prefetched comes from the view's cache, as
  // the final view holds it (the upper layer's a; c through its symlink).
  for (const auto& entry : fs::directory_iterator(m_dir->path())) {
    fs::remove(entry.path());
  }
  EXPECT_EQ(*view.read_file("/etc/a"), "upper a");
  auto both = view.read_files({"/etc/a", "/etc/c"});
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->at("/etc/c"), "b");
  EXPECT_FALSE(view.read_file("/etc/missing").ok());
}

TEST_F(ImageViewTest, FilesKeptWhileFoldingAreTheFinalViewsOnly) {
  auto keep = [](std::string_view tar_path) { return tar_path.rfind("etc/", 0) == 0; };
  std::vector<fs::path> files;
  std::vector<std::vector<Entry>> layers = {
      {dir("etc"), file("etc/a", "lower a"), file("etc/b", "b"), file("etc/gone", "x"),
       file("etc/replaced", "kept but replaced")},
      {file("etc/a", "upper a"), file("etc/.wh.gone", ""), dir("etc/replaced")},
  };
  for (size_t i = 0; i < layers.size(); ++i) {
    files.push_back(m_dir->path() / ("k" + std::to_string(i) + ".tar.gz"));
    write_layer(files.back(), layers[i]);
  }
  auto view = ImageView::load(files, "test", keep);
  ASSERT_TRUE(view.ok()) << view.error().message;
  for (const auto& f : files) {
    fs::remove(f);
  }
  // Kept and still the view's: read without the layers.
  EXPECT_EQ(*view->read_file("/etc/a"), "upper a");
  EXPECT_EQ(*view->read_file("/etc/b"), "b");
  // A kept file the upper layer deleted or replaced is not the view's.
  EXPECT_FALSE(view->read_file("/etc/gone").ok());
  EXPECT_FALSE(view->read_file("/etc/replaced").ok());
}

TEST_F(ImageViewTest, SymlinksAreFollowedInsideTheImage) {
  ImageView view = load({
      {dir("usr"), dir("usr/lib"), file("usr/lib/os-release", "ID=debian\n"), dir("etc"),
       symlink("etc/os-release", "../usr/lib/os-release"), symlink("abs", "/usr/lib"),
       symlink("loop1", "loop2"), symlink("loop2", "loop1"), symlink("up", "../../../usr")},
  });
  EXPECT_EQ(*view.read_file("/etc/os-release"), "ID=debian\n");
  EXPECT_EQ(*view.read_file("/abs/os-release"), "ID=debian\n");
  EXPECT_EQ(*view.resolve("/abs/os-release"), "/usr/lib/os-release");
  // ".." stops at the image root.
  EXPECT_EQ(*view.resolve("/up/lib"), "/usr/lib");
  EXPECT_FALSE(view.read_file("/loop1").ok());
  EXPECT_EQ(view.read_file("/missing").error().kind, ErrorKind::NotFound);
  EXPECT_TRUE(view.lstat("/etc/os-release")->is_symlink());
  EXPECT_TRUE(view.stat("/etc/os-release")->is_regular());
}

TEST_F(ImageViewTest, EntriesUnderASymlinkedParentLandWhereItPoints) {
  // A layer symlinks usr/lib -> /etc; the next one writes usr/lib/x: it is /etc/x.
  ImageView view = load({
      {dir("etc"), dir("usr"), symlink("usr/lib", "/etc")},
      {file("usr/lib/x", "payload")},
  });
  ASSERT_NE(view.lstat("/etc/x"), nullptr);
  EXPECT_EQ(*view.read_file("/etc/x"), "payload");
  EXPECT_TRUE(view.lstat("/usr/lib")->is_symlink());
}

TEST_F(ImageViewTest, HardLinksReadTheirTarget) {
  ImageView view = load({
      {dir("bin"), file("bin/a", "same bytes", 0755), hardlink("bin/b", "bin/a")},
  });
  ASSERT_NE(view.lstat("/bin/b"), nullptr);
  EXPECT_TRUE(view.lstat("/bin/b")->is_regular());
  EXPECT_EQ(view.lstat("/bin/b")->size, 10U);
  EXPECT_EQ(*view.read_file("/bin/b"), "same bytes");
  auto both = view.read_files({"/bin/a", "/bin/b", "/nope"});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->size(), 2U);
}

TEST_F(ImageViewTest, ImpliedParentDirectories) {
  ImageView view = load({{file("a/b/c", "x")}});
  ASSERT_NE(view.lstat("/a"), nullptr);
  EXPECT_TRUE(view.lstat("/a/b")->is_dir());
  EXPECT_EQ(view.lstat("/a/b")->mode, 0755U);
}

TEST_F(ImageViewTest, ForEachContentVisitsOnlyVisibleFiles) {
  ImageView view = load({
      {file("one", "1"), file("two", "2")},
      {file("two", "22"), file(".wh.one", "")},
  });
  std::map<std::string, std::string> seen;
  ASSERT_TRUE(view.for_each_content([](const std::string&, const FileInfo&) { return true; },
                                    [&](const std::string& path, const FileInfo&,
                                        archive::ContentReader& reader) -> Status {
                                      seen[path] = *reader.read_all();
                                      return {};
                                    })
                  .ok());
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"/two", "22"}}));
}

TEST(GoFileMode, MatchesGoFileModeString) {
  FileInfo info;
  info.mode = 0644;
  EXPECT_EQ(go_file_mode(info), "-rw-r--r--");
  info.type = archive::EntryType::Directory;
  info.mode = 01777;
  EXPECT_EQ(go_file_mode(info), "dtrwxrwxrwx");
  info.mode = 0700;
  EXPECT_EQ(go_file_mode(info), "drwx------");
  info.type = archive::EntryType::Symlink;
  info.mode = 0777;
  EXPECT_EQ(go_file_mode(info), "Lrwxrwxrwx");
  info.type = archive::EntryType::File;
  info.mode = 04755;
  EXPECT_EQ(go_file_mode(info), "urwxr-xr-x");
  info.mode = 02755;
  EXPECT_EQ(go_file_mode(info), "grwxr-xr-x");
  info.type = archive::EntryType::CharDevice;
  info.mode = 0666;
  EXPECT_EQ(go_file_mode(info), "Dcrw-rw-rw-");
}

// An image of two platforms, amd64 and arm64, their manifests otherwise empty.
oci::LoadedImage two_platforms() {
  oci::LoadedImage image;
  for (const char* arch : {"amd64", "arm64"}) {
    oci::LoadedManifest manifest;
    manifest.platform = oci::platform_for_debian_arch(arch);
    image.manifests.push_back(std::move(manifest));
  }
  return image;
}

TEST(SelectManifest, ByDebianArchitecture) {
  oci::LoadedImage image = two_platforms();
  const oci::LoadedManifest arm64 = image.manifests[1];
  auto chosen = select_manifest(image, "arm64");
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ((*chosen)->platform.architecture, "arm64");
  auto missing = select_manifest(image, "s390x");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("linux/amd64"), std::string::npos);
  // A single-platform image is used whatever the host is.
  image.manifests = {arm64};
  EXPECT_TRUE(select_manifest(image, "").ok());
}

TEST(SelectManifest, KeepOnePlatformDropsTheOthersAndTheIndex) {
  oci::LoadedImage image = two_platforms();
  image.index = oci::Index{};
  image.index_json = "{}";
  image.index_descriptor = oci::describe(image.index_json, std::string(oci::k_media_oci_index));
  ASSERT_TRUE(keep_one_platform(image, "arm64").ok());
  ASSERT_EQ(image.manifests.size(), 1U);
  EXPECT_EQ(image.manifests[0].platform.architecture, "arm64");
  EXPECT_FALSE(image.index);
  EXPECT_FALSE(image.index_descriptor);
  EXPECT_TRUE(image.index_json.empty());
  // A platform the image lacks: an error, and the image as it was.
  image = two_platforms();
  EXPECT_FALSE(keep_one_platform(image, "s390x").ok());
  EXPECT_EQ(image.manifests.size(), 2U);
}

TEST(OpenImage, ABadReferenceOrArchitectureIsAUsageError) {
  for (auto [ref, arch, want] :
       {std::tuple<const char*, const char*, const char*>{"nolayout", "",
                                                          "invalid image reference"},
        {"oci:/nonexistent/layout", "x86_64", "unknown architecture 'x86_64'"}}) {
    auto opened = open_image(ref, arch);
    ASSERT_FALSE(opened.ok()) << ref;
    EXPECT_EQ(opened.error().message.rfind("usage: ", 0), 0U) << opened.error().message;
    EXPECT_NE(opened.error().message.find(want), std::string::npos) << opened.error().message;
  }
}

}  // namespace
}  // namespace distill::check
