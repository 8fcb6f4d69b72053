// LayerCache read verification (issue 11, item 7): a record is trusted only
// while its blob is unchanged since it was verified; a changed blob is hashed
// and dropped when damaged, so the layer is rebuilt instead of shipped.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace distill::image
