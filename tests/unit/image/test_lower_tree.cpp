// The tree a spec's files and archives are placed over (lower_tree.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "archive/byte_sink.hpp"
#include "archive/tar_writer.hpp"
#include "crypto/sha256.hpp"
#include "image/lower_tree.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

constexpr int64_t k_placed_epoch = 1700000000;

GeneratedEntry lower_link(std::string path, std::string target) {
  return make_symlink(std::move(path), std::move(target), k_placed_epoch);
}

GeneratedEntry lower_dir(std::string path, uint32_t mode, uint32_t uid = 0) {
  return make_directory(std::move(path), mode, k_placed_epoch, uid, uid);
}

// Debian 13's skeleton: merged /usr's links, /tmp and /root.
LowerTree skeleton() {
  LowerTree tree;
  tree.add_layer(listing_of(std::vector<GeneratedEntry>{
      lower_dir("usr", 0755), lower_dir("usr/lib", 0755), lower_link("lib", "usr/lib"),
      lower_link("bin", "usr/bin"), lower_link("lib64", "/usr/lib64"), lower_dir("tmp", 01777),
      lower_dir("root", 0700)}));
  return tree;
}

TEST(LowerTree, ResolvesParentsThroughLinksAsTheKernelWould) {
  LowerTree tree = skeleton();
  EXPECT_EQ(tree.resolve("lib/x86_64-linux-gnu/libc.so.6", false),
            "usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(tree.resolve("lib64/ld.so", false), "usr/lib64/ld.so");  // absolute target
  EXPECT_EQ(tree.resolve("lib", false), "lib");                      // the last one kept
  EXPECT_EQ(tree.resolve("lib", true), "usr/lib");
  EXPECT_EQ(tree.resolve("opt/app/x", false), "opt/app/x");
  EXPECT_EQ(tree.resolve("./opt//../lib/x", false), "usr/lib/x");

  // `..` stops at the root; a loop of links is left where it stands.
  tree.add_layer(listing_of(std::vector<GeneratedEntry>{
      lower_link("up", "../../../etc"), lower_link("a", "b"), lower_link("b", "a")}));
  EXPECT_EQ(tree.resolve("up/passwd", false), "etc/passwd");
  std::string looped = tree.resolve("a/x", false);
  EXPECT_EQ(looped.substr(looped.size() - 2), "/x") << looped;
}

TEST(LowerTree, WhiteoutsAndReplacementsChangeWhatIsBelow) {
  LowerTree tree = skeleton();
  // A layer that makes lib a directory again, and removes /tmp.
  tree.add_layer(listing_of(std::vector<archive::TarEntry>{lower_dir("lib", 0755).entry}));
  archive::TarEntry whiteout;
  whiteout.path = ".wh.tmp";
  tree.add_layer(listing_of(std::vector<archive::TarEntry>{whiteout}));
  EXPECT_EQ(tree.resolve("lib/x", false), "lib/x");
  EXPECT_EQ(tree.directory("tmp"), nullptr);
  ASSERT_NE(tree.directory("root"), nullptr);

  // An opaque directory hides what is under it, not the directory itself.
  archive::TarEntry opaque;
  opaque.path = "usr/.wh..wh..opq";
  tree.add_layer(listing_of(std::vector<archive::TarEntry>{opaque}));
  EXPECT_NE(tree.directory("usr"), nullptr);
  EXPECT_EQ(tree.directory("usr/lib"), nullptr);
}

TEST(LowerTree, PlacesEntriesWithTheOwnerAndModeOfTheDirectoriesBelow) {
  LowerTree tree = skeleton();
  tree.add_layer(listing_of(std::vector<GeneratedEntry>{lower_dir("home", 0755),
                                                        lower_dir("home/nonroot", 0700, 65532)}));
  std::vector<GeneratedEntry> entries = {
      make_file("tmp/seed", "s", 0644, k_placed_epoch),
      make_file("home/nonroot/.config/app.yaml", "a", 0600, k_placed_epoch, 65532, 65532),
      make_file("lib/x86_64-linux-gnu/libapp.so", "x", 0644, k_placed_epoch),
      lower_dir("data", 0700, 1000),  // asked for: kept as it is
      make_file("data/x", "x", 0644, k_placed_epoch),
  };
  complete_and_sort(entries, k_placed_epoch);
  place_over(entries, tree, k_placed_epoch);
  std::map<std::string, archive::TarEntry> by_path;
  for (const auto& e : entries) {
    EXPECT_TRUE(by_path.emplace(e.entry.path, e.entry).second) << e.entry.path;
  }
  EXPECT_EQ(by_path.at("tmp").mode, 01777u);
  EXPECT_EQ(by_path.at("home/nonroot").mode, 0700u);
  EXPECT_EQ(by_path.at("home/nonroot").uid, 65532u);
  EXPECT_EQ(by_path.at("home/nonroot/.config").mode, 0755u);  // new: root's
  EXPECT_EQ(by_path.at("home/nonroot/.config").uid, 0u);
  EXPECT_EQ(by_path.at("data").mode, 0700u);
  EXPECT_EQ(by_path.at("data").uid, 1000u);
  EXPECT_EQ(by_path.count("lib"), 0u);
  EXPECT_EQ(by_path.count("lib/x86_64-linux-gnu"), 0u);
  EXPECT_EQ(by_path.at("usr/lib/x86_64-linux-gnu").mode, 0755u);
  EXPECT_EQ(by_path.count("usr/lib/x86_64-linux-gnu/libapp.so"), 1u);
  EXPECT_TRUE(std::is_sorted(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.entry.path < b.entry.path;
  }));

  // Placed again (distill update reads them back from the layer): no change.
  auto again = entries;
  for (auto& e : again) {
    e.implied = false;
  }
  place_over(again, tree, k_placed_epoch);
  ASSERT_EQ(again.size(), entries.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].entry.path, entries[i].entry.path);
    EXPECT_EQ(again[i].entry.mode, entries[i].entry.mode);
  }

  auto dst = directories_over("usr/lib/tool", tree, k_placed_epoch);
  ASSERT_EQ(dst.size(), 3u);
  EXPECT_EQ(dst[0].entry.path, "usr");
  EXPECT_EQ(dst[2].entry.path, "usr/lib/tool");
  EXPECT_TRUE(dst[2].implied);
}

TEST(LowerTree, ALayersListingIsKeptByItsDigest) {
  auto work = util::TempDir::create("distill-lower-");
  ASSERT_TRUE(work.ok());
  std::string tar;
  {
    archive::StringSink sink(tar);
    archive::TarWriter writer(sink);
    ASSERT_TRUE(writer.add(lower_dir("tmp", 01777).entry, std::string_view()).ok());
    ASSERT_TRUE(writer.add(lower_link("lib", "usr/lib").entry, std::string_view()).ok());
    ASSERT_TRUE(writer.add(make_file("etc/x", "x", 0644, k_placed_epoch).entry, "x").ok());
    ASSERT_TRUE(writer.finish().ok());
  }
  oci::LayerBlob blob;
  blob.file = work->path() / "layer.tar";
  blob.descriptor.digest = crypto::sha256(tar);
  std::ofstream(blob.file, std::ios::binary) << tar;
  auto first = layer_listing(blob, work->path() / "cache");
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->paths.size(), 2u);  // files are not listed
  std::filesystem::remove(blob.file);
  auto kept = layer_listing(blob, work->path() / "cache");
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  ASSERT_EQ(kept->paths.size(), 2u);
  EXPECT_EQ(kept->paths[0].kind, LayerListing::Kind::Directory);
  EXPECT_EQ(kept->paths[0].mode, 01777u);
  EXPECT_EQ(kept->paths[1].kind, LayerListing::Kind::Symlink);
  EXPECT_EQ(kept->paths[1].target, "usr/lib");
}

}  // namespace
}  // namespace distill::image
