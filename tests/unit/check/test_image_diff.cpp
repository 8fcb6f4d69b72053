// diff_images on OCI layouts built in the test: files added, removed and changed
// (content, mode, owner, link target, type), whiteouts, packages from status.d,
// config fields, shared layers, identical images, the text and JSON renderings.
#include <gtest/gtest.h>

#include "check/image_diff.hpp"
#include "check/image_view.hpp"
#include "test_image.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

class ImageDiffTest : public ::testing::Test {
 protected:
  void SetUp() override { m_dir = std::make_unique<util::TempDir>(*util::TempDir::create()); }

  std::string image(const std::vector<std::vector<Entry>>& layers,
                    oci::ImageConfig config = base_config()) {
    ImageSpec spec;
    spec.layers = layers;
    spec.config = std::move(config);
    return write_image(m_dir->path() / ("image" + std::to_string(m_count++)), spec);
  }

  ImageDiff diff(const std::string& a, const std::string& b) {
    DiffRequest request;
    request.a = a;
    request.b = b;
    request.debian_arch = "amd64";
    auto result = diff_images(request);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
    return result.ok() ? std::move(*result) : ImageDiff{};
  }

  static const FileChange* find(const ImageDiff& diff, const std::string& path) {
    for (const auto& change : diff.files) {
      if (change.path == path) {
        return &change;
      }
    }
    return nullptr;
  }

  static std::vector<std::string> paths(const ImageDiff& diff) {
    std::vector<std::string> out;
    for (const auto& change : diff.files) {
      out.push_back(std::string(to_string(change.change)) + " " + change.path);
    }
    return out;
  }

  std::unique_ptr<util::TempDir> m_dir;
  int m_count = 0;
};

std::vector<Entry> app_layer(const std::string& version) {
  return {dir("app"), file("app/run", "#!/app " + version + "\n", 0755),
          file("app/data", "same data\n"), symlink("app/current", "run")};
}

TEST_F(ImageDiffTest, IdenticalImagesHaveNoDifferences) {
  std::string a = image({base_layer(), app_layer("1")});
  std::string b = image({base_layer(), app_layer("1")});
  ImageDiff same = diff(a, b);
  EXPECT_TRUE(same.identical());
  EXPECT_TRUE(same.files.empty());
  EXPECT_TRUE(same.packages.empty());
  EXPECT_TRUE(same.config.empty());
  EXPECT_TRUE(same.layers.same_stack);
  EXPECT_EQ(same.layers.shared.size(), 2U);
  EXPECT_EQ(same.layers.common_prefix, 2U);
  EXPECT_EQ(to_text(same), "");
  EXPECT_TRUE(diff(a, a).identical());
  nlohmann::json json = to_json(same);
  EXPECT_TRUE(json["identical"].get<bool>());
  EXPECT_TRUE(json["files"].empty());
}

TEST_F(ImageDiffTest, FilesAddedRemovedAndChanged) {
  std::string a = image({base_layer(),
                         {dir("app"), file("app/run", "v1", 0755), file("app/old", "gone soon"),
                          file("app/same", "s")}});
  std::string b = image(
      {base_layer(),
       {dir("app"), file("app/run", "v2", 0755), file("app/new", "fresh"), file("app/same", "s")}});
  ImageDiff d = diff(a, b);
  EXPECT_FALSE(d.identical());
  EXPECT_EQ(paths(d),
            (std::vector<std::string>{"added /app/new", "removed /app/old", "changed /app/run"}));
  const FileChange* run = find(d, "/app/run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->what, std::vector<std::string>{"content"});
  EXPECT_EQ(run->a->sha256, crypto::sha256("v1").str());
  EXPECT_EQ(run->b->sha256, crypto::sha256("v2").str());
  const FileChange* added = find(d, "/app/new");
  ASSERT_NE(added, nullptr);
  EXPECT_FALSE(added->a.has_value());
  EXPECT_EQ(added->b->size, 5U);
  EXPECT_TRUE(d.packages.empty());
  EXPECT_TRUE(d.config.empty());
  // The base layer is shared, the top layers are not.
  EXPECT_EQ(d.layers.common_prefix, 1U);
  ASSERT_EQ(d.layers.shared.size(), 1U);
  EXPECT_EQ(d.layers.shared[0].a_index, 0U);
  ASSERT_EQ(d.layers.only_a.size(), 1U);
  ASSERT_EQ(d.layers.only_b.size(), 1U);
  EXPECT_EQ(d.layers.only_b[0].index, 1U);
  EXPECT_EQ(d.layers.only_b[0].created_by, "test layer 1");
}

TEST_F(ImageDiffTest, SizeModeOwnerTargetAndTypeChanges) {
  std::string a = image({{dir("etc"), file("etc/conf", "abc", 0644), file("etc/key", "k", 0600),
                          dir("data", 0755, 0, 0), symlink("etc/link", "conf"),
                          file("etc/thing", "t"), hardlink("etc/hard", "etc/conf")}});
  std::string b = image({{dir("etc"), file("etc/conf", "abcdef", 0644),
                          Entry{"etc/key", archive::EntryType::File, "k", 0600, 65532, 65532, ""},
                          dir("data", 0750, 0, 0), symlink("etc/link", "key"),
                          symlink("etc/thing", "conf"), hardlink("etc/hard", "etc/key")}});
  ImageDiff d = diff(a, b);
  auto what = [&](const std::string& path) {
    const FileChange* change = find(d, path);
    EXPECT_NE(change, nullptr) << path;
    return change == nullptr ? std::vector<std::string>{} : change->what;
  };
  EXPECT_EQ(what("/etc/conf"), (std::vector<std::string>{"content", "size"}));
  EXPECT_EQ(what("/etc/key"), std::vector<std::string>{"owner"});
  EXPECT_EQ(what("/data"), std::vector<std::string>{"mode"});
  EXPECT_EQ(what("/etc/link"), std::vector<std::string>{"target"});
  EXPECT_EQ(what("/etc/thing"), std::vector<std::string>{"type"});
  // A hard link's own change is its target; the content is its target's entry.
  std::vector<std::string> hard = what("/etc/hard");
  EXPECT_NE(std::find(hard.begin(), hard.end(), "target"), hard.end());
  EXPECT_EQ(std::find(hard.begin(), hard.end(), "content"), hard.end());
  // Nothing else differs (/etc is the same directory in both).
  EXPECT_EQ(d.files.size(), 6U);

  std::string text = to_text(d);
  EXPECT_NE(text.find("  ~ /etc/conf   content, size 3 -> 6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  ~ /etc/key    owner 0:0 -> 65532:65532\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  ~ /data       mode 0755 -> 0750\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  ~ /etc/link   target conf -> key\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  ~ /etc/thing  file 0644 0:0 1 B -> symlink -> conf 0:0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Files (6 changed):\n"), std::string::npos) << text;
}

TEST_F(ImageDiffTest, WhiteoutsAreHonoured) {
  std::vector<Entry> lower{dir("srv"),   file("srv/a", "a"),   file("srv/b", "b"),
                           dir("cache"), file("cache/x", "x"), file("cache/y", "y")};
  std::string a = image({lower, {file("srv/c", "c")}});
  // B deletes srv/a, recreates nothing for it, and makes /cache opaque with a new file.
  std::string b = image({lower,
                         {file("srv/c", "c"), file("srv/.wh.a", ""), dir("cache"),
                          file("cache/.wh..wh..opq", ""), file("cache/z", "z")}});
  ImageDiff d = diff(a, b);
  EXPECT_EQ(paths(d), (std::vector<std::string>{"removed /cache/x", "removed /cache/y",
                                                "added /cache/z", "removed /srv/a"}));
  // srv/c has the same content from different layers: hashed, found equal.
  EXPECT_EQ(find(d, "/srv/c"), nullptr);
  EXPECT_EQ(find(d, "/srv/.wh.a"), nullptr);
}

TEST_F(ImageDiffTest, PackageVersionsFromStatusEntries) {
  auto with = [](const std::string& foo_version, bool baz) {
    std::vector<Entry> layer{
        dir("var"),
        dir("var/lib"),
        dir("var/lib/dpkg"),
        dir("var/lib/dpkg/status.d"),
        file("var/lib/dpkg/status.d/foo",
             "Package: foo\nVersion: " + foo_version + "\nArchitecture: amd64\n"),
        file("var/lib/dpkg/status.d/foo.md5sums", "x  usr/bin/foo\n"),
        file("var/lib/dpkg/status.d/keep", "Package: keep\nVersion: 1\nArchitecture: all\n"),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/foo", "foo " + foo_version, 0755)};
    if (baz) {
      layer.push_back(
          file("var/lib/dpkg/status.d/baz", "Package: baz\nVersion: 2.0\nArchitecture: amd64\n"));
    }
    return layer;
  };
  std::string a = image({base_layer(), with("1.0-1", true)});
  std::string b = image({base_layer(), with("1.1-1", false)});
  ImageDiff d = diff(a, b);
  ASSERT_EQ(d.packages.size(), 2U);
  EXPECT_EQ(d.packages[0].name, "baz");
  EXPECT_EQ(d.packages[0].change, Change::Removed);
  EXPECT_EQ(d.packages[0].a_version, "2.0");
  EXPECT_EQ(d.packages[1].name, "foo");
  EXPECT_EQ(d.packages[1].change, Change::Changed);
  EXPECT_EQ(d.packages[1].arch, "amd64");
  EXPECT_EQ(d.packages[1].a_version, "1.0-1");
  EXPECT_EQ(d.packages[1].b_version, "1.1-1");
  EXPECT_EQ(paths(d),
            (std::vector<std::string>{"changed /usr/bin/foo", "removed /var/lib/dpkg/status.d/baz",
                                      "changed /var/lib/dpkg/status.d/foo"}));
  std::string text = to_text(d);
  EXPECT_NE(text.find("Packages (1 removed, 1 changed):\n  - baz  2.0\n  ~ foo  1.0-1 -> 1.1-1\n"),
            std::string::npos)
      << text;

  // Reversed, the same change the other way.
  ImageDiff back = diff(b, a);
  ASSERT_EQ(back.packages.size(), 2U);
  EXPECT_EQ(back.packages[0].change, Change::Added);
  EXPECT_EQ(back.packages[1].a_version, "1.1-1");
}

TEST_F(ImageDiffTest, ClassicStatusFile) {
  auto status = [](const std::string& bar) {
    return std::vector<Entry>{
        dir("var"), dir("var/lib"), dir("var/lib/dpkg"),
        file("var/lib/dpkg/status",
             "Package: bar\nStatus: install ok installed\nVersion: " + bar +
                 "\nArchitecture: amd64\n\n"
                 "Package: old\nStatus: deinstall ok config-files\nVersion: 1\n"
                 "Architecture: amd64\n\n"
                 "Package: same\nStatus: install ok installed\nVersion: 3\nArchitecture: all\n")};
  };
  std::string a = image({status("1")});
  std::string b = image({status("2")});
  ImageDiff d = diff(a, b);
  ASSERT_EQ(d.packages.size(), 1U);
  EXPECT_EQ(d.packages[0].name, "bar");
  EXPECT_EQ(d.packages[0].b_version, "2");
}

TEST_F(ImageDiffTest, ConfigDifferences) {
  oci::ImageConfig a = base_config();
  a.entrypoint = std::vector<std::string>{"/app/run"};
  a.labels = {{"version", "1"}, {"team", "x"}};
  a.exposed_ports = {"8000/tcp"};
  oci::ImageConfig b = a;
  b.entrypoint = std::vector<std::string>{"/app/run", "--fast"};
  b.cmd = std::vector<std::string>{"serve"};
  b.user = "0";
  b.working_dir = "/app";
  b.env.push_back("TZ=UTC");
  b.env[0] = "PATH=/app:/usr/bin";
  b.labels.erase("team");
  b.labels["version"] = "2";
  b.exposed_ports = {"9000/tcp"};
  b.stop_signal = "SIGINT";
  std::vector<std::vector<Entry>> layers{base_layer()};
  std::string ref_a = image(layers, a);
  std::string ref_b = image(layers, b);
  ImageDiff d = diff(ref_a, ref_b);
  EXPECT_TRUE(d.files.empty());
  EXPECT_TRUE(d.layers.same_stack);
  std::vector<std::string> got;
  for (const auto& change : d.config) {
    got.push_back(std::string(to_string(change.change)) + " " + change.field + " " + change.key);
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{"added cmd ", "changed entrypoint ", "changed env PATH",
                                      "added env TZ", "removed label team", "changed label version",
                                      "removed port 8000/tcp", "added port 9000/tcp",
                                      "added stop_signal ", "changed user ", "changed workdir "}));
  EXPECT_FALSE(d.identical());
  std::string text = to_text(d);
  EXPECT_NE(text.find("  ~ entrypoint     [\"/app/run\"] -> [\"/app/run\",\"--fast\"]\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  ~ user           65532 -> 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  + env TZ         UTC\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  - port 8000/tcp\n"), std::string::npos) << text;
  // No Layers section: both have the same stack.
  EXPECT_EQ(text.find("Layers"), std::string::npos) << text;
  nlohmann::json json = to_json(d);
  EXPECT_EQ(json["config"][1]["b"], nlohmann::json({"/app/run", "--fast"}));
  EXPECT_TRUE(json["config"][0]["a"].is_null());
}

TEST_F(ImageDiffTest, SameFilesInOtherLayersDifferOnlyInLayers) {
  std::vector<Entry> one{dir("a"), file("a/x", "x"), dir("b"), file("b/y", "y")};
  std::string a = image({one});
  std::string b = image({{dir("a"), file("a/x", "x")}, {dir("b"), file("b/y", "y")}});
  ImageDiff d = diff(a, b);
  EXPECT_TRUE(d.files.empty());
  EXPECT_TRUE(d.packages.empty());
  EXPECT_FALSE(d.identical());
  EXPECT_EQ(d.layers.only_a.size(), 1U);
  EXPECT_EQ(d.layers.only_b.size(), 2U);
  std::string text = to_text(d);
  EXPECT_NE(text.find("Layers (0 shared, 1 only in A, 2 only in B):\n  - #0 "), std::string::npos)
      << text;
}

TEST_F(ImageDiffTest, LayersInAnotherOrder) {
  std::vector<Entry> x{file("x", "x")};
  std::vector<Entry> y{file("y", "y")};
  std::string a = image({x, y});
  std::string b = image({y, x});
  ImageDiff d = diff(a, b);
  EXPECT_TRUE(d.files.empty());
  EXPECT_FALSE(d.identical());
  EXPECT_EQ(d.layers.shared.size(), 2U);
  EXPECT_NE(to_text(d).find("Layers (2 shared, in another order):\n"), std::string::npos);
}

TEST_F(ImageDiffTest, SharedUpperLayerAboveADifferentLowerOne) {
  // The same top layer (read once for both) over bottoms that differ: in A /lib
  // is a symlink to usr/lib, in B a directory, so the top's lib/x lands elsewhere;
  // its whiteout removes /etc/old in both.
  std::vector<Entry> top{file("lib/x", "x"), file("etc/.wh.old", ""), file("etc/new", "n")};
  std::string a = image(
      {{dir("etc"), file("etc/old", "o"), symlink("lib", "usr/lib"), dir("usr"), dir("usr/lib")},
       top});
  std::string b = image({{dir("etc"), file("etc/old", "o"), dir("lib"), dir("usr"), dir("usr/lib")},
                         {file("usr/lib/extra", "e")},
                         top});
  ImageDiff d = diff(a, b);
  EXPECT_EQ(d.layers.common_prefix, 0U);
  ASSERT_EQ(d.layers.shared.size(), 1U);
  EXPECT_EQ(d.layers.shared[0].a_index, 1U);
  EXPECT_EQ(d.layers.shared[0].b_index, 2U);
  EXPECT_EQ(paths(d), (std::vector<std::string>{"changed /lib", "added /lib/x",
                                                "added /usr/lib/extra", "removed /usr/lib/x"}));
  EXPECT_EQ(find(d, "/lib")->what, std::vector<std::string>{"type"});
}

TEST_F(ImageDiffTest, JsonHasEveryField) {
  std::string a = image({base_layer(), {file("f", "1")}});
  std::string b = image({base_layer(), {file("f", "22", 0755)}});
  nlohmann::json json = to_json(diff(a, b));
  EXPECT_EQ(json["a"]["ref"], a);
  EXPECT_EQ(json["b"]["platform"], "linux/amd64");
  EXPECT_EQ(json["a"]["manifest"].get<std::string>().rfind("sha256:", 0), 0U);
  EXPECT_FALSE(json["identical"].get<bool>());
  ASSERT_EQ(json["files"].size(), 1U);
  const nlohmann::json& f = json["files"][0];
  EXPECT_EQ(f["change"], "changed");
  EXPECT_EQ(f["path"], "/f");
  EXPECT_EQ(f["what"], nlohmann::json({"content", "size", "mode"}));
  EXPECT_EQ(f["a"]["mode"], "0644");
  EXPECT_EQ(f["b"]["mode"], "0755");
  EXPECT_EQ(f["b"]["type"], "file");
  EXPECT_EQ(f["b"]["size"], 2);
  EXPECT_EQ(f["b"]["sha256"], crypto::sha256("22").str());
  EXPECT_EQ(json["layers"]["common_prefix"], 1);
  EXPECT_EQ(json["layers"]["shared"].size(), 1U);
  EXPECT_EQ(json["layers"]["only_a"][0]["index"], 1);
  EXPECT_EQ(json["layers"]["only_b"][0]["diff_id"].get<std::string>().rfind("sha256:", 0), 0U);
  EXPECT_TRUE(json["packages"].is_array());
  EXPECT_TRUE(json["config"].is_array());
}

TEST_F(ImageDiffTest, ALayerClaimingAnotherLayersDiffIdIsRefused) {
  std::string a = image({base_layer(), app_layer("1")});
  // B's second layer holds other files but its config claims A's diff_id:
  // taken at its word, the two would be "identical" (umoci refuses B).
  const auto claimed = write_layer(m_dir->path() / "claimed.tar.gz", app_layer("1")).diff_id;
  ImageSpec spec;
  spec.layers = {base_layer(), app_layer("2")};
  spec.config = base_config();
  spec.tamper = [&](oci::ImageManifest& manifest) { manifest.layers[1].diff_id = claimed; };
  std::string b = write_image(m_dir->path() / "liar", spec);
  DiffRequest request;
  request.a = a;
  request.b = b;
  request.debian_arch = "amd64";
  auto result = diff_images(request);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(result.error().message.find("not the diff_id " + claimed.str()), std::string::npos)
      << result.error().message;
}

TEST_F(ImageDiffTest, UnreadableReferenceIsNamed) {
  std::string a = image({base_layer()});
  DiffRequest request;
  request.a = a;
  request.b = "oci:" + (m_dir->path() / "missing").string() + ":latest";
  auto result = diff_images(request);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find(request.b), std::string::npos) << result.error().message;
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos);
}

TEST_F(ImageDiffTest, MissingPlatformIsAnError) {
  std::string a = image({base_layer()});
  DiffRequest request;
  request.a = a;
  request.b = a;
  request.debian_arch = "arm64";
  auto result = diff_images(request);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("linux/arm64"), std::string::npos)
      << result.error().message;
}

// The view of an image built on another's prefix equals the view read whole.
TEST(ImageViewPrefix, SharedPrefixGivesTheSameView) {
  auto dir_result = util::TempDir::create();
  ASSERT_TRUE(dir_result.ok());
  const fs::path root = dir_result->path();
  write_layer(root / "0.tar.gz", {dir("etc"), symlink("lib", "usr/lib"), dir("usr"), dir("usr/lib"),
                                  file("usr/lib/a", "a")});
  write_layer(root / "1.tar.gz", {file("lib/b", "b"), file("etc/.wh.x", ""), file("etc/y", "y")});
  std::vector<fs::path> layers{root / "0.tar.gz", root / "1.tar.gz"};
  auto prefix = ImageView::load({layers[0]}, "prefix");
  ASSERT_TRUE(prefix.ok());
  auto whole = ImageView::load(layers, "whole");
  auto extended = ImageView::load(layers, "extended", *prefix);
  ASSERT_TRUE(whole.ok());
  ASSERT_TRUE(extended.ok());
  ASSERT_EQ(whole->files().size(), extended->files().size());
  for (const auto& [path, info] : whole->files()) {
    const FileInfo* other = extended->lstat(path);
    ASSERT_NE(other, nullptr) << path;
    EXPECT_EQ(other->layer, info.layer) << path;
    EXPECT_EQ(other->tar_path, info.tar_path) << path;
  }
  EXPECT_NE(extended->lstat("/usr/lib/b"), nullptr);
  EXPECT_EQ(*extended->read_file("/usr/lib/a"), "a");
  EXPECT_EQ(*extended->read_file("/lib/b"), "b");
  // Entries read beforehand give the same view as the file.
  auto top = ImageView::read_entries(layers[1], "top");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->size(), 3U);
  auto empty = ImageView::load({}, "empty");
  ASSERT_TRUE(empty.ok());
  auto known = ImageView::load(layers, "known", *empty, {nullptr, &*top});
  ASSERT_TRUE(known.ok());
  ASSERT_EQ(known->files().size(), whole->files().size());
  for (const auto& [path, info] : whole->files()) {
    const FileInfo* other = known->lstat(path);
    ASSERT_NE(other, nullptr) << path;
    EXPECT_EQ(other->layer, info.layer) << path;
  }
  EXPECT_EQ(*known->read_file("/lib/b"), "b");
  // A prefix longer than the image is refused.
  auto longer = ImageView::load({layers[0]}, "short", *whole);
  EXPECT_FALSE(longer.ok());
}

}  // namespace
}  // namespace distill::check
