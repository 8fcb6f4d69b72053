// image_from_loaded + write_outputs as `copy` uses them: an image read without
// an index keeps its manifest as the top-level document (the digest a tag
// names does not change), the source's layout ref name is not carried over,
// and a Docker manifest written to an OCI layout goes under an OCI index.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "image/outputs.hpp"
#include "oci/descriptor.hpp"
#include "oci/image_reader.hpp"
#include "oci/media_types.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

oci::LoadedImage single_manifest(const std::filesystem::path& dir, std::string_view media_type) {
  oci::LoadedImage loaded;
  oci::LoadedManifest m;
  std::string layer = "layer bytes";
  std::filesystem::path layer_file = dir / "layer";
  EXPECT_TRUE(util::write_file_atomic(layer_file, layer).ok());
  m.config.architecture = "amd64";
  m.config.os = "linux";
  m.config.diff_ids = {crypto::sha256("tar")};
  m.config_json = m.config.to_json();
  m.manifest.media_type = std::string(media_type);
  m.manifest.config = oci::describe(m.config_json, std::string(oci::k_media_oci_config));
  m.manifest.layers = {oci::describe(layer, std::string(oci::k_media_oci_layer_gzip))};
  m.manifest_json = m.manifest.to_json();
  m.descriptor = oci::describe(m.manifest_json, std::string(media_type));
  m.descriptor.annotations[std::string(oci::k_annotation_ref_name)] = "pulled";
  m.platform = oci::platform_for_debian_arch("amd64");
  m.layer_files = {layer_file};
  loaded.manifests.push_back(std::move(m));
  return loaded;
}

TEST(CopyOutputs, ASourceWithoutIndexKeepsItsManifestOnTop) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  oci::LoadedImage loaded = single_manifest(dir->path(), oci::k_media_oci_manifest);
  auto image = image_from_loaded(loaded);
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(image->index_json, loaded.manifests[0].manifest_json);
  EXPECT_EQ(image->index_descriptor.digest, loaded.manifests[0].descriptor.digest);
  EXPECT_TRUE(image->index_descriptor.annotations.empty());

  util::Progress progress(util::Progress::Mode::None);
  std::string out = "oci:" + (dir->path() / "layout").string() + ":v1";
  ASSERT_TRUE(write_outputs(*image, {out}, {"", "latest"}, {}, progress).ok());
  auto index = nlohmann::json::parse(*util::read_file(dir->path() / "layout" / "index.json"));
  ASSERT_EQ(index["manifests"].size(), 1U);
  EXPECT_EQ(index["manifests"][0]["digest"], loaded.manifests[0].descriptor.digest.str());
  EXPECT_EQ(index["manifests"][0]["annotations"],
            nlohmann::json({{"org.opencontainers.image.ref.name", "v1"}}));
}

TEST(CopyOutputs, ADockerManifestGoesUnderAnOciIndexInALayout) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  oci::LoadedImage loaded = single_manifest(dir->path(), oci::k_media_docker_manifest);
  auto image = image_from_loaded(loaded);
  ASSERT_TRUE(image.ok()) << image.error().message;
  util::Progress progress(util::Progress::Mode::None);
  std::string out = "oci:" + (dir->path() / "layout").string() + ":v1";
  ASSERT_TRUE(write_outputs(*image, {out}, {"", "latest"}, {}, progress).ok());
  auto index = nlohmann::json::parse(*util::read_file(dir->path() / "layout" / "index.json"));
  ASSERT_EQ(index["manifests"].size(), 1U);
  EXPECT_EQ(index["manifests"][0]["mediaType"], oci::k_media_oci_index);
  // The Docker manifest itself is kept byte for byte under it.
  oci::ImageRef ref;
  ref.transport = oci::ImageRef::Transport::OciLayout;
  ref.path = dir->path() / "layout";
  ref.tag = "v1";
  auto reread = oci::load_image(ref);
  ASSERT_TRUE(reread.ok()) << reread.error().message;
  ASSERT_EQ(reread->manifests.size(), 1U);
  EXPECT_EQ(reread->manifests[0].manifest_json, loaded.manifests[0].manifest_json);
}

}  // namespace
}  // namespace distill::image
