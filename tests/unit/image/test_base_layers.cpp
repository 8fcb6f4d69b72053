// check_base_layers: a `from:` image's layers must decompress to its config's
// diff_ids, one a layer; a layer checked once is not decompressed again.
#include <gtest/gtest.h>

#include <fstream>

#include "crypto/sha256.hpp"
#include "image/base_layers.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

class BaseLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-base-layers-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
  }

  // A manifest of uncompressed layers holding `contents`, each with its
  // diff_id in the config.
  oci::LoadedManifest manifest(const std::vector<std::string>& contents) {
    oci::LoadedManifest m;
    for (const auto& content : contents) {
      crypto::Digest digest = crypto::sha256(content);
      fs::path file = m_dir->path() / digest.hex();
      std::ofstream(file, std::ios::binary) << content;
      oci::Descriptor layer;
      layer.digest = digest;
      layer.size = content.size();
      m.manifest.layers.push_back(layer);
      m.config.diff_ids.push_back(digest);
      m.layer_files.push_back(file);
    }
    return m;
  }
  [[nodiscard]] fs::path records() const { return m_dir->path() / "records"; }

  std::unique_ptr<util::TempDir> m_dir;
};

TEST_F(BaseLayers, LayersThatMatchTheirDiffIdsPassAndAreRecorded) {
  auto m = manifest({"first layer", "second layer"});
  ASSERT_TRUE(check_base_layers(m, records(), "app.yaml:2: from: oci:base").ok());
  EXPECT_TRUE(fs::exists(records() / m.manifest.layers[0].digest.hex()));
  // Recorded by blob digest: the next check does not read the blob again.
  std::ofstream(m.layer_files[1], std::ios::binary | std::ios::trunc) << "changed";
  EXPECT_TRUE(check_base_layers(m, records(), "app.yaml:2: from: oci:base").ok());
}

TEST_F(BaseLayers, AWrongDiffIdNamesTheLayerAndBothDigests) {
  auto m = manifest({"first layer", "second layer"});
  m.config.diff_ids[1] = crypto::sha256("something else");
  auto refused = check_base_layers(m, records(), "app.yaml:2: from: oci:base");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(refused.error().message,
            "app.yaml:2: from: oci:base: layer " + m.manifest.layers[1].digest.str() +
                " decompresses to " + crypto::sha256("second layer").str() + ", not the diff_id " +
                crypto::sha256("something else").str() + " its config gives");
  EXPECT_FALSE(fs::exists(records() / m.manifest.layers[1].digest.hex()));
}

TEST_F(BaseLayers, ADiffIdForEachLayer) {
  auto m = manifest({"first layer", "second layer"});
  m.config.diff_ids.pop_back();
  auto refused = check_base_layers(m, records(), "app.yaml:2: from: oci:base");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "app.yaml:2: from: oci:base: the image has 2 layers, but its config gives 1 diff_ids");
}

}  // namespace
}  // namespace distill::image
