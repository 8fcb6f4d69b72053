// write_outputs: one built image to oci:, oci-archive: and docker-archive:
// destinations. The image is made the way a build makes it (layers through
// LayerWriter into a blob store, then oci::finalize), and every output is read
// back: ref names in index.json, docker's manifest.json RepoTags from the
// OutputDefaults, refs kept when a layout gets a second tag, and errors for bad
// references and for multi-platform docker archives.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "archive/tar_reader.hpp"
#include "image/generated_files.hpp"
#include "image/layer_writer.hpp"
#include "image/outputs.hpp"
#include "oci/descriptor.hpp"
#include "oci/image.hpp"
#include "oci/image_config.hpp"
#include "oci/image_reader.hpp"
#include "oci/image_ref.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "util/file_io.hpp"
#include "util/progress.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

class OutputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-outputs-test-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
  }

  [[nodiscard]] fs::path path() const { return m_dir->path(); }

  // A layer made by LayerWriter into the test's blob store.
  oci::LayerBlob layer(const std::vector<GeneratedEntry>& entries) {
    auto writer = LayerWriter::create(path() / "blobs", archive::Compression::Gzip, 1);
    EXPECT_TRUE(writer.ok());
    if (!writer.ok()) {
      return {};
    }
    for (const auto& e : entries) {
      auto added = (*writer)->add(e);
      EXPECT_TRUE(added.ok()) << added.error().message;
    }
    auto blob = (*writer)->finish();
    EXPECT_TRUE(blob.ok()) << blob.error().message;
    return blob.ok() ? *blob : oci::LayerBlob{};
  }

  // A finalized image: a base layer of generated files and an app layer whose
  // content makes images built with different `app` differ.
  oci::Image image(const std::string& app, const std::vector<std::string>& archs = {"amd64"}) {
    oci::Image out;
    for (const auto& arch : archs) {
      oci::ImageManifest manifest;
      manifest.platform = oci::platform_for_debian_arch(arch);
      manifest.config.created = oci::format_rfc3339(0);
      manifest.config.env = {"PATH=/usr/bin:/bin"};
      manifest.config.entrypoint = std::vector<std::string>{"/app/run"};
      manifest.config.user = "65532";
      manifest.layers.push_back(layer(base_files(default_accounts(), "bookworm", 0)));
      std::vector<GeneratedEntry> app_files = {
          make_directory("app", 0755, 0),
          make_file("app/run", "#!" + app + " " + arch + "\n", 0755, 0),
      };
      manifest.layers.push_back(layer(app_files));
      out.manifests.push_back(std::move(manifest));
    }
    auto finalized = oci::finalize(out);
    EXPECT_TRUE(finalized.ok()) << finalized.error().message;
    return out;
  }

  Result<std::vector<std::string>> write(const oci::Image& img,
                                         const std::vector<std::string>& refs,
                                         const OutputDefaults& defaults = {"hello", "1.0"}) {
    return write_outputs(img, refs, defaults, RegistrySettings{}, util::quiet_progress());
  }

  std::unique_ptr<util::TempDir> m_dir;
};

oci::Index read_index_text(const std::string& text, const std::string& origin) {
  auto index = oci::Index::parse(text, origin);
  EXPECT_TRUE(index.ok()) << (index.ok() ? "" : index.error().message);
  return index.ok() ? *index : oci::Index{};
}

oci::Index read_layout_index(const fs::path& layout) {
  auto text = util::read_file(layout / "index.json");
  EXPECT_TRUE(text.ok());
  return read_index_text(text.ok() ? *text : "", "index.json");
}

std::string ref_of(const oci::Descriptor& descriptor) {
  auto it = descriptor.annotations.find(std::string(oci::k_annotation_ref_name));
  return it == descriptor.annotations.end() ? "" : it->second;
}

// ref name -> digest of what it points at.
std::map<std::string, std::string> refs_of(const oci::Index& index) {
  std::map<std::string, std::string> out;
  for (const auto& d : index.manifests) {
    out[ref_of(d)] = d.digest.str();
  }
  return out;
}

// Every entry of a tar file: path -> content.
std::map<std::string, std::string> read_tar(const fs::path& file) {
  std::map<std::string, std::string> out;
  auto status = archive::for_each_tar_entry(
      file,
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        DISTILL_TRY(auto bytes, content.read_all());
        out[entry.path] = std::move(bytes);
        return {};
      },
      file.string());
  EXPECT_TRUE(status.ok()) << status.error().message;
  return out;
}

std::string blob_path(const crypto::Digest& digest) { return "blobs/sha256/" + digest.hex(); }

TEST_F(OutputsTest, OciLayoutGetsTheRefNameAndEveryBlob) {
  oci::Image img = image("one");
  fs::path layout = path() / "layout";
  auto written = write(img, {"oci:" + layout.string() + ":1.0"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(*written, std::vector<std::string>{"oci:" + layout.string() + ":1.0"});

  oci::Index index = read_layout_index(layout);
  ASSERT_EQ(index.manifests.size(), 1U);
  EXPECT_EQ(ref_of(index.manifests[0]), "1.0");
  EXPECT_EQ(index.manifests[0].digest, img.index_descriptor.digest);
  EXPECT_EQ(index.manifests[0].media_type, std::string(oci::k_media_oci_index));

  EXPECT_TRUE(fs::exists(layout / "oci-layout"));
  const auto& m = img.manifests[0];
  EXPECT_TRUE(fs::exists(layout / blob_path(img.index_descriptor.digest)));
  EXPECT_TRUE(fs::exists(layout / blob_path(m.manifest_descriptor.digest)));
  EXPECT_TRUE(fs::exists(layout / blob_path(m.config_descriptor.digest)));
  ASSERT_EQ(m.layers.size(), 2U);
  for (const auto& l : m.layers) {
    EXPECT_EQ(fs::file_size(layout / blob_path(l.descriptor.digest)), l.descriptor.size);
  }
}

TEST_F(OutputsTest, OciLayoutWithoutRefIsLatest) {
  // oci:DIR means oci:DIR:latest (docs/formats/oci-refs.md); the build's tag
  // reaches a layout only through its default output oci:./out/NAME:TAG.
  oci::Image img = image("one");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write(img, {"oci:" + layout.string()}, {"hello", "1.0"}).ok());
  EXPECT_EQ(refs_of(read_layout_index(layout)),
            (std::map<std::string, std::string>{{"latest", img.index_descriptor.digest.str()}}));
}

TEST_F(OutputsTest, ASecondTagInTheSameLayoutKeepsTheFirst) {
  oci::Image first = image("one");
  oci::Image second = image("two");
  ASSERT_NE(first.index_descriptor.digest, second.index_descriptor.digest);
  fs::path layout = path() / "layout";
  std::string dir = "oci:" + layout.string();
  ASSERT_TRUE(write(first, {dir + ":1.0"}).ok());
  ASSERT_TRUE(write(second, {dir + ":2.0"}).ok());
  EXPECT_EQ(refs_of(read_layout_index(layout)),
            (std::map<std::string, std::string>{{"1.0", first.index_descriptor.digest.str()},
                                                {"2.0", second.index_descriptor.digest.str()}}));
  // Both images stay complete: the first one's manifest blob is still there.
  EXPECT_TRUE(fs::exists(layout / blob_path(first.manifests[0].manifest_descriptor.digest)));
  EXPECT_TRUE(fs::exists(layout / blob_path(second.manifests[0].manifest_descriptor.digest)));

  // Writing a tag again moves it, without duplicating the entry.
  ASSERT_TRUE(write(second, {dir + ":1.0"}).ok());
  oci::Index index = read_layout_index(layout);
  EXPECT_EQ(index.manifests.size(), 2U);
  EXPECT_EQ(refs_of(index),
            (std::map<std::string, std::string>{{"1.0", second.index_descriptor.digest.str()},
                                                {"2.0", second.index_descriptor.digest.str()}}));
}

TEST_F(OutputsTest, SeveralOutputsInOneCallGetTheSameImage) {
  oci::Image img = image("one");
  std::string a = "oci:" + (path() / "a").string() + ":x";
  std::string b = "oci-archive:" + (path() / "b.tar").string() + ":y";
  std::string c = "oci:" + (path() / "a").string() + ":z";
  auto written = write(img, {a, b, c});
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(*written, (std::vector<std::string>{a, b, c}));
  EXPECT_EQ(refs_of(read_layout_index(path() / "a")),
            (std::map<std::string, std::string>{{"x", img.index_descriptor.digest.str()},
                                                {"z", img.index_descriptor.digest.str()}}));
  auto tar = read_tar(path() / "b.tar");
  EXPECT_EQ(refs_of(read_index_text(tar["index.json"], "b.tar index.json")),
            (std::map<std::string, std::string>{{"y", img.index_descriptor.digest.str()}}));
}

TEST_F(OutputsTest, OciArchiveHoldsALayoutWithTheRefName) {
  oci::Image img = image("one");
  fs::path file = path() / "image.tar";
  auto written = write(img, {"oci-archive:" + file.string() + ":v1"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  auto tar = read_tar(file);
  ASSERT_EQ(tar.count("index.json"), 1U);
  ASSERT_EQ(tar.count("oci-layout"), 1U);
  EXPECT_NE(tar["oci-layout"].find("imageLayoutVersion"), std::string::npos);
  oci::Index index = read_index_text(tar["index.json"], "index.json");
  ASSERT_EQ(index.manifests.size(), 1U);
  EXPECT_EQ(ref_of(index.manifests[0]), "v1");
  EXPECT_EQ(index.manifests[0].digest, img.index_descriptor.digest);

  const auto& m = img.manifests[0];
  EXPECT_EQ(tar[blob_path(img.index_descriptor.digest)], img.index_json);
  EXPECT_EQ(tar[blob_path(m.manifest_descriptor.digest)], m.manifest_json);
  EXPECT_EQ(tar[blob_path(m.config_descriptor.digest)], m.config_json);
  for (const auto& l : m.layers) {
    ASSERT_EQ(tar.count(blob_path(l.descriptor.digest)), 1U);
    EXPECT_EQ(tar[blob_path(l.descriptor.digest)].size(), l.descriptor.size);
  }
  // Nothing else: blobs/ and blobs/sha256/, the layers, config, manifest and
  // index blobs, index.json and oci-layout.
  EXPECT_EQ(tar.count("blobs"), 1U);
  EXPECT_EQ(tar.count("blobs/sha256"), 1U);
  EXPECT_EQ(tar.size(), 2U + m.layers.size() + 3U + 2U);
}

TEST_F(OutputsTest, DockerArchiveRepoTagsComeFromTheDefaults) {
  oci::Image img = image("one");
  fs::path file = path() / "docker.tar";
  auto written = write(img, {"docker-archive:" + file.string()}, {"hello", "1.0"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  auto tar = read_tar(file);
  ASSERT_EQ(tar.count("manifest.json"), 1U);
  auto manifest = nlohmann::json::parse(tar["manifest.json"]);
  ASSERT_TRUE(manifest.is_array());
  ASSERT_EQ(manifest.size(), 1U);
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json::array({"hello:1.0"}));
  const auto& m = img.manifests[0];
  EXPECT_EQ(manifest[0]["Config"], blob_path(m.config_descriptor.digest));
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : m.layers) {
    layers.push_back(blob_path(l.descriptor.digest));
  }
  EXPECT_EQ(manifest[0]["Layers"], layers);
  EXPECT_EQ(tar[blob_path(m.config_descriptor.digest)], m.config_json);

  // `docker load` also reads `repositories`: name -> tag -> top layer.
  ASSERT_EQ(tar.count("repositories"), 1U);
  auto repositories = nlohmann::json::parse(tar["repositories"]);
  EXPECT_EQ(repositories["hello"]["1.0"], m.layers.back().descriptor.digest.hex());

  // And OCI tools see the single manifest, tagged.
  oci::Index index = read_index_text(tar["index.json"], "index.json");
  ASSERT_EQ(index.manifests.size(), 1U);
  EXPECT_EQ(index.manifests[0].digest, m.manifest_descriptor.digest);
  EXPECT_EQ(ref_of(index.manifests[0]), "1.0");
}

TEST_F(OutputsTest, DockerArchiveNameAndTagInTheReferenceWin) {
  oci::Image img = image("one");
  fs::path file = path() / "docker.tar";
  ASSERT_TRUE(write(img, {"docker-archive:" + file.string() + ":example.org/team/app:2.5"},
                    {"hello", "1.0"})
                  .ok());
  auto manifest = nlohmann::json::parse(read_tar(file)["manifest.json"]);
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json::array({"example.org/team/app:2.5"}));

  // A name without a tag is NAME:latest (the reference's default), not the
  // build's tag.
  fs::path named = path() / "named.tar";
  ASSERT_TRUE(write(img, {"docker-archive:" + named.string() + ":app"}, {"hello", "1.0"}).ok());
  manifest = nlohmann::json::parse(read_tar(named)["manifest.json"]);
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json::array({"app:latest"}));
}

TEST_F(OutputsTest, DockerArchiveWithAnEmptyDefaultNameHasNoRepoTags) {
  oci::Image img = image("one");
  fs::path file = path() / "docker.tar";
  ASSERT_TRUE(write(img, {"docker-archive:" + file.string()}, {"", "1.0"}).ok());
  auto tar = read_tar(file);
  auto manifest = nlohmann::json::parse(tar["manifest.json"]);
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json::array());
  EXPECT_EQ(tar.count("repositories"), 0U);
}

TEST_F(OutputsTest, DockerArchiveRefusesAMultiPlatformImage) {
  oci::Image img = image("one", {"amd64", "arm64"});
  fs::path file = path() / "docker.tar";
  std::string ref = "docker-archive:" + file.string();
  auto written = write(img, {ref});
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(written.error().message.find(ref), std::string::npos) << written.error().message;
  EXPECT_NE(written.error().message.find("one platform"), std::string::npos)
      << written.error().message;
  EXPECT_FALSE(fs::exists(file));

  // The same image goes to an OCI layout: one index over both manifests.
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write(img, {"oci:" + layout.string() + ":multi"}).ok());
  auto text = util::read_file(layout / blob_path(img.index_descriptor.digest));
  ASSERT_TRUE(text.ok());
  oci::Index inner = read_index_text(*text, "image index");
  ASSERT_EQ(inner.manifests.size(), 2U);
  ASSERT_TRUE(inner.manifests[0].platform && inner.manifests[1].platform);
  EXPECT_EQ(inner.manifests[0].platform->architecture, "amd64");
  EXPECT_EQ(inner.manifests[1].platform->architecture, "arm64");
}

TEST_F(OutputsTest, ABadReferenceIsAClearErrorAndStopsTheOutputs) {
  oci::Image img = image("one");
  for (const std::string& bad :
       {std::string("out/image"), std::string("tar:out.tar"), std::string("oci:"),
        "oci:" + (path() / "x").string() + ":bad ref", std::string("docker-archive:")}) {
    SCOPED_TRACE(bad);
    auto written = write(img, {bad});
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().kind, ErrorKind::InvalidInput);
    EXPECT_NE(written.error().message.find("invalid image reference \"" + bad + "\""),
              std::string::npos)
        << written.error().message;
  }
  EXPECT_FALSE(fs::exists(path() / "x"));

  // Outputs before the bad one are written (each complete), later ones are not.
  std::string good = "oci:" + (path() / "good").string() + ":1";
  std::string after = "oci:" + (path() / "after").string() + ":1";
  auto written = write(img, {good, "nonsense", after});
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find("\"nonsense\""), std::string::npos)
      << written.error().message;
  EXPECT_EQ(refs_of(read_layout_index(path() / "good")),
            (std::map<std::string, std::string>{{"1", img.index_descriptor.digest.str()}}));
  EXPECT_FALSE(fs::exists(path() / "after"));
}

TEST_F(OutputsTest, ALoadedImageIsWrittenWithItsDigestsKept) {
  // copy: read an image back, write it elsewhere; manifests and index are the
  // same bytes, so the same digests.
  oci::Image img = image("one");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write(img, {"oci:" + layout.string() + ":src"}).ok());
  auto ref = oci::ImageRef::parse("oci:" + layout.string() + ":src");
  ASSERT_TRUE(ref.ok());
  auto loaded = oci::load_image(*ref);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto copy = image_from_loaded(*loaded);
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_EQ(copy->index_descriptor.digest, img.index_descriptor.digest);
  ASSERT_EQ(copy->manifests.size(), 1U);
  EXPECT_EQ(copy->manifests[0].manifest_descriptor.digest,
            img.manifests[0].manifest_descriptor.digest);

  fs::path file = path() / "copy.tar";
  ASSERT_TRUE(write(*copy, {"docker-archive:" + file.string()}, {"image", "latest"}).ok());
  auto tar = read_tar(file);
  oci::Index index = read_index_text(tar["index.json"], "index.json");
  ASSERT_EQ(index.manifests.size(), 1U);
  EXPECT_EQ(index.manifests[0].digest, img.manifests[0].manifest_descriptor.digest);
  auto manifest = nlohmann::json::parse(tar["manifest.json"]);
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json::array({"image:latest"}));
}

}  // namespace
}  // namespace distill::image
