// Readers of one image (the view inspect, test, audit and sbom fold, and the
// unpacker of run and of command tests) check each layer's uncompressed tar
// against its config's diff_id as they read it: a config that lies about a
// layer, or a blob swapped in the manifest alone, is refused with one line
// naming the layer and both digests, while honest images read as before.
#include <gtest/gtest.h>

#include "archive/decompress.hpp"
#include "check/image_diff.hpp"
#include "check/image_view.hpp"
#include "check/inspect.hpp"
#include "runtime/rootfs_unpacker.hpp"
#include "test_image.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

std::vector<Entry> versioned_app(const std::string& version) {
  return {dir("app"), file("app/version", version), file("app/run", "#!/bin/true\n", 0755)};
}

class DiffIdTest : public ::testing::Test {
 protected:
  void SetUp() override { m_dir = std::make_unique<util::TempDir>(*util::TempDir::create()); }

  // An image of a base layer and an app layer, its manifest changed by `tamper`.
  std::string image(const std::string& name,
                    std::function<void(oci::ImageManifest&)> tamper = nullptr) {
    ImageSpec spec;
    spec.layers = {base_layer(), versioned_app("1")};
    spec.config = base_config();
    spec.tamper = std::move(tamper);
    return write_image(m_dir->path() / name, spec);
  }

  static std::unique_ptr<OpenedImage> open(const std::string& ref) {
    auto opened = open_image(ref, "amd64");
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  // runtime::unpack_layers as `distill run` and command tests call it.
  Status unpack(const OpenedImage& image) {
    const fs::path root = m_dir->path() / ("root" + std::to_string(m_roots++));
    fs::create_directory(root);
    runtime::UnpackOptions options;
    options.diff_ids = image.manifest->config.diff_ids;
    options.image = image.ref;
    return runtime::unpack_layers(image.manifest->layer_files, root, options);
  }

  // Every reader of `ref` fails with `message`, Corrupt.
  void expect_refused(const std::string& ref, const std::string& message) {
    auto opened = open(ref);  // opening checks the compressed digests only
    ASSERT_NE(opened, nullptr);
    auto view = ImageView::load(*opened);
    ASSERT_FALSE(view.ok()) << "the view of " << ref << " was folded";
    EXPECT_EQ(view.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(view.error().message, message);
    Status unpacked = unpack(*opened);
    ASSERT_FALSE(unpacked.ok()) << ref << " was unpacked";
    EXPECT_EQ(unpacked.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(unpacked.error().message, message);
  }

  std::unique_ptr<util::TempDir> m_dir;
  int m_roots = 0;
};

TEST_F(DiffIdTest, AnHonestImageIsReadUnpackedAndMeasuredInOnePass) {
  std::string ref = image("honest");
  auto opened = open(ref);
  ASSERT_NE(opened, nullptr);
  auto view = ImageView::load(*opened);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(*view->read_file("/app/version"), "1");
  ASSERT_TRUE(view->uncompressed_size(0).has_value());
  ASSERT_TRUE(view->uncompressed_size(1).has_value());
  Status unpacked = unpack(*opened);
  ASSERT_TRUE(unpacked.ok()) << unpacked.error().message;
  EXPECT_TRUE(fs::exists(m_dir->path() / "root0" / "app" / "run"));

  // inspect takes the sizes the view measured; they are those of the tars.
  auto report = inspect_image(*opened, *view, InspectOptions{});
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->layers.size(), 2U);
  for (size_t i = 0; i < 2; ++i) {
    auto tar = archive::uncompressed_digest(opened->manifest->layer_files[i]);
    ASSERT_TRUE(tar.ok());
    EXPECT_EQ(report->layers[i].uncompressed_size, tar->size);
    EXPECT_EQ(*view->uncompressed_size(i), tar->size);
    EXPECT_EQ(report->layers[i].diff_id, tar->digest.str());
  }
}

TEST_F(DiffIdTest, AConfigThatLiesAboutALayerIsRefusedByEveryReader) {
  const crypto::Digest lie = crypto::sha256("another layer");
  crypto::Digest truth;
  // The config, its digest, the manifest and the index all agree: only the
  // diff_id is not the layer's.
  std::string ref = image("liar", [&](oci::ImageManifest& manifest) {
    truth = manifest.layers[1].diff_id;
    manifest.layers[1].diff_id = lie;
  });
  expect_refused(ref, "layer 1 of " + ref + ": uncompressed content has " + truth.str() +
                          ", the config says " + lie.str());

  // diff reads B's layer 1 (A does not hold it) and refuses it too.
  DiffRequest request;
  request.a = image("honest");
  request.b = ref;
  request.debian_arch = "amd64";
  auto diff = diff_images(request);
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(diff.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(diff.error().message.find("uncompressed content has " + truth.str() +
                                      ", the config says " + lie.str()),
            std::string::npos)
      << diff.error().message;
}

TEST_F(DiffIdTest, ABlobSwappedInTheManifestAloneIsRefused) {
  // Another valid layer blob, its digest and size put in the manifest; the
  // config still gives the diff_id of the layer it replaced.
  const oci::LayerBlob other = write_layer(m_dir->path() / "other.tar.gz", versioned_app("2"));
  crypto::Digest claimed;
  std::string ref = image("swapped", [&](oci::ImageManifest& manifest) {
    claimed = manifest.layers[1].diff_id;
    manifest.layers[1].file = other.file;
    manifest.layers[1].descriptor = other.descriptor;
  });
  expect_refused(ref, "layer 1 of " + ref + ": uncompressed content has " + other.diff_id.str() +
                          ", the config says " + claimed.str());
}

TEST_F(DiffIdTest, TheUnpackerRefusesAMismatchedCount) {
  std::string ref = image("honest");
  auto opened = open(ref);
  ASSERT_NE(opened, nullptr);
  runtime::UnpackOptions options;
  options.diff_ids = {opened->manifest->config.diff_ids[0]};
  options.image = ref;
  fs::create_directory(m_dir->path() / "root");
  Status unpacked =
      runtime::unpack_layers(opened->manifest->layer_files, m_dir->path() / "root", options);
  ASSERT_FALSE(unpacked.ok());
  EXPECT_EQ(unpacked.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(unpacked.error().message, ref + " has 2 layers, but its config gives 1 diff_ids");
}

}  // namespace
}  // namespace distill::check
