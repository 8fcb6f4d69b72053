// PackageGroupWriter: a grouped layer made again with one package changed
// copies the others from the recorded layer, and its bytes are those of a
// layer made from every .deb.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "fake_repository.hpp"
#include "image/package_group.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using testing::FakeFile;
using testing::FakePackage;

// Bytes no compressor shrinks much, the same on every run.
std::string noise(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  for (auto& c : out) {
    seed = seed * 1664525U + 1013904223U;
    c = static_cast<char>(seed >> 24);
  }
  return out;
}

class PackageGroup : public ::testing::Test {
 protected:
  void SetUp() override {
    auto work = util::TempDir::create("distill-group-");
    ASSERT_TRUE(work.ok());
    m_work = std::make_unique<util::TempDir>(std::move(*work));
  }

  InstalledPackage deb(const FakePackage& p) {
    return testing::installed_deb(p, testing::make_deb(p),
                                  m_work->path() / "debs" / (p.name + "_" + p.version + ".deb"));
  }

  struct Made {
    oci::LayerBlob blob;
    size_t copied = 0;
    uint64_t chunks_reused = 0;
  };

  // The layer of `packages` made with the layer cache in `cache` (records
  // kept there), stored under `key`.
  Made make(const std::string& cache, const std::vector<InstalledPackage>& packages,
            const std::string& key) {
    fs::path dir = m_work->path() / cache;
    LayerCache layers(dir);
    PackageGroupWriter group(layers, dir, 1700000000, archive::Compression::Gzip);
    auto writer = LayerWriter::create(layers.blob_dir(), archive::Compression::Gzip, 2);
    EXPECT_TRUE(writer.ok());
    Status written =
        group.write(**writer, packages, [](const InstalledPackage&) -> Status { return {}; });
    EXPECT_TRUE(written.ok()) << written.error().message;
    auto blob = (*writer)->finish();
    EXPECT_TRUE(blob.ok()) << blob.error().message;
    EXPECT_TRUE(layers.store(key, *blob).ok());
    group.record(key, *blob);
    return {*blob, group.copied(), group.chunks_reused()};
  }

  // The same layer made from the .debs alone, in a cache of its own.
  oci::LayerBlob fresh(const std::vector<InstalledPackage>& packages) {
    return make("fresh-" + std::to_string(++m_fresh), packages, "k").blob;
  }

  std::unique_ptr<util::TempDir> m_work;
  int m_fresh = 0;
};

FakePackage package(const std::string& name, const std::string& version,
                    std::vector<FakeFile> files) {
  return {name, version, "amd64", "", std::move(files)};
}

TEST_F(PackageGroup, AChangedPackageInTheMiddleCopiesTheOthersToTheSameBytes) {
  // `big` spans three gzip chunks: two of them come back compressed as they were.
  auto big = deb(package("big", "1", {{"usr/share/big/data", noise(2'500'000, 1)}}));
  auto mid1 = deb(package("mid", "1", {{"usr/share/doc/mid/copyright", "one\n"}}));
  auto mid2 = deb(package("mid", "2", {{"usr/share/doc/mid/copyright", "two, longer\n"}}));
  auto tail = deb(package("tail", "1", {{"usr/share/doc/tail/copyright", "tail\n"}}));

  auto first = make("cache", {big, mid1, tail}, "old");
  EXPECT_EQ(first.copied, 0u);
  EXPECT_EQ(first.blob.descriptor.digest, fresh({big, mid1, tail}).descriptor.digest);

  auto second = make("cache", {big, mid2, tail}, "new");
  EXPECT_EQ(second.copied, 2u);
  EXPECT_EQ(second.chunks_reused, 2 * archive::k_gzip_chunk_size);
  auto expected = fresh({big, mid2, tail});
  EXPECT_EQ(second.blob.descriptor.digest, expected.descriptor.digest);
  EXPECT_EQ(second.blob.diff_id, expected.diff_id);
  EXPECT_EQ(second.blob.uncompressed_size, expected.uncompressed_size);

  // And back: the record is now the second layer's.
  auto third = make("cache", {big, mid1, tail}, "old");
  EXPECT_EQ(third.copied, 2u);
  EXPECT_EQ(third.blob.descriptor.digest, first.blob.descriptor.digest);
}

TEST_F(PackageGroup, AChangedFirstPackageTakesNoChunkAndCopiesTheRest) {
  auto a1 = deb(package("a", "1", {{"usr/lib/a/one", noise(1'200'000, 2)}}));
  auto a2 = deb(package("a", "2", {{"usr/lib/a/one", noise(1'300'000, 3)}}));
  auto b = deb(package("b", "1", {{"usr/lib/b/two", noise(1'100'000, 4)}}));
  make("cache", {a1, b}, "old");
  auto second = make("cache", {a2, b}, "new");
  EXPECT_EQ(second.copied, 1u);
  EXPECT_EQ(second.chunks_reused, 0u);
  EXPECT_EQ(second.blob.descriptor.digest, fresh({a2, b}).descriptor.digest);
}

// A package's entries depend on the directories written before it: when the
// changed package no longer writes one that a later package needs, that
// later package writes it itself, so it is made from its .deb, not copied.
TEST_F(PackageGroup, APackageAfterOneWhoseDirectoriesChangedIsMadeFromItsDeb) {
  auto a = deb(package("a", "1", {{"etc/a.conf", "a\n"}}));
  auto b1 = deb(package("b", "1", {{"usr/lib/shared/b.so", "b\n"}}));
  auto b2 = deb(package("b", "2", {{"usr/share/doc/b/copyright", "b\n"}}));
  auto c = deb(package("c", "1", {{"usr/lib/shared/c.so", "c\n"}}));
  make("cache", {a, b1, c}, "old");
  auto second = make("cache", {a, b2, c}, "new");
  EXPECT_EQ(second.copied, 1u);  // a only
  EXPECT_EQ(second.blob.descriptor.digest, fresh({a, b2, c}).descriptor.digest);
}

TEST_F(PackageGroup, ARecordWhoseBlobIsGoneOrOtherIsNotUsed) {
  auto a = deb(package("a", "1", {{"etc/a.conf", "a\n"}}));
  auto b1 = deb(package("b", "1", {{"etc/b.conf", "b\n"}}));
  auto b2 = deb(package("b", "2", {{"etc/b.conf", "b2\n"}}));
  auto old = make("cache", {a, b1}, "old");
  fs::remove(old.blob.file);
  auto second = make("cache", {a, b2}, "new");
  EXPECT_EQ(second.copied, 0u);
  EXPECT_EQ(second.blob.descriptor.digest, fresh({a, b2}).descriptor.digest);

  // A record naming a blob the layer cache has under another digest.
  fs::path groups = m_work->path() / "cache" / "layers" / "groups";
  for (const auto& entry : fs::directory_iterator(groups)) {
    auto text = util::read_file(entry.path());
    ASSERT_TRUE(text.ok());
    std::string changed = *text;
    size_t at = changed.find("\"digest\":\"sha256:") + 17;
    changed[at] = changed[at] == '0' ? '1' : '0';
    ASSERT_TRUE(util::write_file_atomic(entry.path(), changed).ok());
  }
  auto third = make("cache", {a, b1}, "old");
  EXPECT_EQ(third.copied, 0u);
  EXPECT_EQ(third.blob.descriptor.digest, fresh({a, b1}).descriptor.digest);
}

// A record whose offsets do not fall on the layer's entries fails the layer
// and is dropped, so the next one is made from the .debs.
TEST_F(PackageGroup, ARecordThatDoesNotMatchItsLayerIsDropped) {
  auto a = deb(package("a", "1", {{"etc/a.conf", "a\n"}}));
  auto b1 = deb(package("b", "1", {{"etc/b.conf", "b\n"}}));
  auto b2 = deb(package("b", "2", {{"etc/b.conf", "b2\n"}}));
  auto c = deb(package("c", "1", {{"etc/c.conf", "c\n"}}));
  make("cache", {a, b1, c}, "old");
  fs::path groups = m_work->path() / "cache" / "layers" / "groups";
  fs::path record = fs::directory_iterator(groups)->path();
  auto text = util::read_file(record);
  ASSERT_TRUE(text.ok());
  auto json = nlohmann::json::parse(*text);
  json["packages"][1]["end"] = json["packages"][1]["end"].get<uint64_t>() + 100;
  json["packages"][2]["start"] = json["packages"][1]["end"];
  ASSERT_TRUE(util::write_file_atomic(record, json.dump()).ok());

  fs::path dir = m_work->path() / "cache";
  LayerCache layers(dir);
  PackageGroupWriter group(layers, dir, 1700000000, archive::Compression::Gzip);
  auto writer = LayerWriter::create(layers.blob_dir(), archive::Compression::Gzip, 1);
  ASSERT_TRUE(writer.ok());
  Status written =
      group.write(**writer, {a, b2, c}, [](const InstalledPackage&) -> Status { return {}; });
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find("copying c from its group's last layer"),
            std::string::npos)
      << written.error().message;
  EXPECT_FALSE(fs::exists(record));
  auto again = make("cache", {a, b2, c}, "new");
  EXPECT_EQ(again.copied, 0u);
  EXPECT_EQ(again.blob.descriptor.digest, fresh({a, b2, c}).descriptor.digest);
}

TEST_F(PackageGroup, OtherNamesOrASinglePackageLeaveNoRecordToUse) {
  auto a = deb(package("a", "1", {{"etc/a.conf", "a\n"}}));
  auto b = deb(package("b", "1", {{"etc/b.conf", "b\n"}}));
  auto c = deb(package("c", "1", {{"etc/c.conf", "c\n"}}));
  make("cache", {a, b}, "ab");
  EXPECT_EQ(make("cache", {a, c}, "ac").copied, 0u);
  make("cache", {a}, "a");
  EXPECT_FALSE(fs::exists(m_work->path() / "cache" / "layers" / "groups" / "a.json"));
  EXPECT_EQ(make("cache", {a, b}, "ab2").copied, 2u);
}

}  // namespace
}  // namespace distill::image
