// LayerCache read verification (issue 11, item 7): a record is trusted only
// while its blob is unchanged since it was verified; a changed blob is hashed
// and dropped when damaged, so the layer is rebuilt instead of shipped.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "image/layer_cache.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

class LayerCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-layer-cache-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    fs::create_directories(cache().blob_dir() / "sha256");
    m_blob.descriptor.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    m_blob.descriptor.digest = crypto::sha256(m_content);
    m_blob.descriptor.size = m_content.size();
    m_blob.diff_id = crypto::sha256("tar");
    m_blob.uncompressed_size = 3;
    m_blob.file = cache().blob_dir() / "sha256" / m_blob.descriptor.digest.hex();
    ASSERT_TRUE(util::write_file_atomic(m_blob.file, m_content).ok());
    ASSERT_TRUE(cache().store("key", m_blob).ok());
  }
  [[nodiscard]] LayerCache cache() const { return LayerCache(m_dir->path()); }

  std::unique_ptr<util::TempDir> m_dir;
  std::string m_content = std::string(4096, 'L');
  oci::LayerBlob m_blob;
};

TEST_F(LayerCacheTest, UnchangedBlobIsAHit) {
  auto hit = cache().lookup("key");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->descriptor.digest, m_blob.descriptor.digest);
  EXPECT_EQ(hit->file, m_blob.file);
  EXPECT_FALSE(cache().lookup("other").has_value());
}

TEST_F(LayerCacheTest, FlippedByteIsAMissAndTheBlobIsDropped) {
  FILE* f = std::fopen(m_blob.file.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 100, SEEK_SET);
  std::fputc('M', f);
  std::fclose(f);
  EXPECT_FALSE(cache().lookup("key").has_value());
  EXPECT_FALSE(fs::exists(m_blob.file));
}

TEST_F(LayerCacheTest, RepublishedIdenticalBlobIsStillAHit) {
  // Another build renames the same bytes over the blob: a new mtime, same content.
  fs::remove(m_blob.file);
  ASSERT_TRUE(util::write_file_atomic(m_blob.file, m_content).ok());
  ASSERT_TRUE(cache().lookup("key").has_value());
  EXPECT_TRUE(fs::exists(m_blob.file));
  ASSERT_TRUE(cache().lookup("key").has_value());
}

TEST_F(LayerCacheTest, RecordWithoutStampIsVerifiedOnce) {
  // Records written before stamps existed: hashed, then stamped.
  std::string record = *util::read_file(m_dir->path() / "layers" / "key.json");
  size_t at = record.find(",\"stamp\"");
  ASSERT_NE(at, std::string::npos) << record;
  size_t end = record.find('"', record.find(':', at) + 2);
  record.erase(at, end + 1 - at);
  ASSERT_TRUE(util::write_file_atomic(m_dir->path() / "layers" / "key.json", record).ok());
  ASSERT_TRUE(cache().lookup("key").has_value());
  EXPECT_NE(util::read_file(m_dir->path() / "layers" / "key.json")->find("\"stamp\""),
            std::string::npos);
}

// A build records its layers together: one file under every key's name.
TEST_F(LayerCacheTest, LayersStoredTogetherAreEachAHit) {
  oci::LayerBlob other = m_blob;
  const std::string content(8192, 'O');
  other.descriptor.digest = crypto::sha256(content);
  other.descriptor.size = content.size();
  other.diff_id = crypto::sha256("other tar");
  other.file = cache().blob_dir() / "sha256" / other.descriptor.digest.hex();
  ASSERT_TRUE(util::write_file_atomic(other.file, content).ok());
  // "key" has a record of its own already (SetUp): replaced.
  ASSERT_TRUE(cache().store_all({{"key", m_blob}, {"second", other}}).ok());
  const fs::path layers = m_dir->path() / "layers";
  EXPECT_TRUE(fs::equivalent(layers / "key.json", layers / "second.json"));
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(layers)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".")) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 2U);
  auto first = cache().lookup("key");
  auto second = cache().lookup("second");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->descriptor.digest, m_blob.descriptor.digest);
  EXPECT_EQ(second->descriptor.digest, other.descriptor.digest);
  EXPECT_EQ(second->diff_id, other.diff_id);
  EXPECT_EQ(second->file, other.file);
  // A name linked to a record file without its key (damage) is a miss.
  fs::create_hard_link(layers / "key.json", layers / "third.json");
  EXPECT_FALSE(cache().lookup("third").has_value());
  // A damaged blob is still found out through a shared record.
  FILE* f = std::fopen(other.file.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fputc('X', f);
  std::fclose(f);
  fs::last_write_time(other.file, fs::last_write_time(other.file) + std::chrono::seconds(5));
  EXPECT_FALSE(cache().lookup("second").has_value());
  EXPECT_TRUE(cache().lookup("key").has_value());
}

TEST_F(LayerCacheTest, OneLayerStoredAloneHasARecordOfItsOwn) {
  ASSERT_TRUE(cache().store_all({{"alone", m_blob}}).ok());
  EXPECT_EQ(fs::hard_link_count(m_dir->path() / "layers" / "alone.json"), 1U);
  EXPECT_TRUE(cache().lookup("alone").has_value());
  ASSERT_TRUE(cache().store_all({}).ok());
}

}  // namespace
}  // namespace distill::image
