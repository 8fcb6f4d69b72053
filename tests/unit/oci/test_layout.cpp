// Writers and reader against real peers: write_oci_layout / write_oci_archive /
// write_docker_archive, validated with oci-image-tool, skopeo and umoci, then read
// back with load_image; corrupted blobs and index.json ref preservation.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "archive/byte_sink.hpp"
#include "archive/compressor.hpp"
#include "archive/tar_writer.hpp"
#include "oci/archive_writer.hpp"
#include "oci/blob_staging.hpp"
#include "oci/blob_store.hpp"
#include "oci/image.hpp"
#include "oci/image_reader.hpp"
#include "oci/layout_writer.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {
namespace {

namespace fs = std::filesystem;

// Writes a gzip layer holding app/ and app/<name> = content; returns its blob.
LayerBlob make_layer(const fs::path& dir, const std::string& name, const std::string& content,
                     const std::string& file_tag) {
  LayerBlob layer;
  layer.file = dir / (file_tag + "-" + name + ".tar.gz");
  auto out = util::AtomicFile::create(layer.file);
  EXPECT_TRUE(out.ok());
  archive::FileSink file_sink(*out);
  archive::HashingSink compressed(&file_sink);
  auto gzip = archive::make_compressor(archive::Compression::Gzip, compressed, 1);
  archive::HashingSink uncompressed(gzip.get());
  archive::TarWriter tar(uncompressed);
  archive::TarEntry directory;
  directory.path = "app";
  directory.type = archive::EntryType::Directory;
  directory.mode = 0755;
  EXPECT_TRUE(tar.add(directory, std::string_view()).ok());
  archive::TarEntry file;
  file.path = "app/" + name;
  file.mode = 0644;
  EXPECT_TRUE(tar.add(file, std::string_view(content)).ok());
  EXPECT_TRUE(tar.finish().ok());
  EXPECT_TRUE(out->commit().ok());
  layer.descriptor.media_type = std::string(k_media_oci_layer_gzip);
  layer.descriptor.digest = compressed.digest();
  layer.descriptor.size = compressed.size();
  layer.diff_id = uncompressed.digest();
  layer.uncompressed_size = uncompressed.size();
  return layer;
}

Image make_image(const fs::path& dir, const std::vector<std::string>& archs,
                 const std::string& content) {
  Image image;
  for (const auto& arch : archs) {
    ImageManifest entry;
    entry.platform = platform_for_debian_arch(arch);
    entry.config.created = format_rfc3339(0);
    entry.config.env = {"PATH=/usr/bin:/bin"};
    entry.config.entrypoint = std::vector<std::string>{"/app/hello"};
    entry.config.user = "65532";
    entry.config.working_dir = "/app";
    std::string tag = content.substr(0, content.find(' '));
    entry.layers.push_back(make_layer(dir, "hello-" + arch, content + arch, tag));
    image.manifests.push_back(std::move(entry));
  }
  EXPECT_TRUE(finalize(image).ok());
  return image;
}

bool have(const char* program) { return !util::find_program(program).empty(); }

util::CommandResult run(std::vector<std::string> argv) {
  auto result = util::run_command(util::Command{std::move(argv)});
  EXPECT_TRUE(result.ok());
  return result.ok() ? *result : util::CommandResult{-1, "", ""};
}

// The entries of `dir` whose names start with `prefix`.
std::vector<std::string> entries_starting(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(prefix)) {
      out.push_back(entry.path().filename().string());
    }
  }
  return out;
}

// The inode number of `file` (0 when it cannot be read).
ino_t inode_of(const fs::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 ? st.st_ino : 0;
}

// A staging for `layout`, which does not exist yet, with `layer` staged into
// the new layout it assembles; the staged copy's inode number in `inode`.
std::unique_ptr<BlobStaging> stage_new_layout(const fs::path& layout, const LayerBlob& layer,
                                              ino_t& inode) {
  auto staging = BlobStaging::open(layout);
  if (staging == nullptr || !staging->new_layout().has_value()) {
    ADD_FAILURE() << "no staging for a new layout at " << layout;
    return nullptr;
  }
  staging->stage(layer.descriptor.digest, layer.file);
  inode = inode_of(*staging->new_layout() / "blobs/sha256" / layer.descriptor.digest.hex());
  EXPECT_NE(inode, 0U) << "staged";
  return staging;
}

class OciWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-oci-test-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
  }
  [[nodiscard]] fs::path path() const { return m_dir->path(); }
  std::unique_ptr<util::TempDir> m_dir;
};

Index read_index(const fs::path& layout) {
  auto text = util::read_file(layout / "index.json");
  EXPECT_TRUE(text.ok());
  auto index = Index::parse(text.ok() ? *text : "", "index.json");
  EXPECT_TRUE(index.ok());
  return index.ok() ? *index : Index{};
}

std::string ref_of(const Descriptor& descriptor) {
  auto it = descriptor.annotations.find(std::string(k_annotation_ref_name));
  return it == descriptor.annotations.end() ? "" : it->second;
}

TEST_F(OciWriterTest, LayoutIsValidForOciImageToolSkopeoAndUmoci) {
  Image image = make_image(path(), {"amd64"}, "hello ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, image, "latest").ok());

  auto oci_layout = util::read_file(layout / "oci-layout");
  ASSERT_TRUE(oci_layout.ok());
  EXPECT_EQ(*oci_layout, R"({"imageLayoutVersion":"1.0.0"})");
  Index index = read_index(layout);
  ASSERT_EQ(index.manifests.size(), 1U);
  EXPECT_EQ(index.manifests[0].digest, image.index_descriptor.digest);
  EXPECT_EQ(ref_of(index.manifests[0]), "latest");
  EXPECT_TRUE(
      fs::exists(layout / "blobs/sha256" / image.manifests[0].config_descriptor.digest.hex()));

  if (have("oci-image-tool")) {
    auto validate = run({"oci-image-tool", "validate", "--type", "image", layout.string()});
    EXPECT_EQ(validate.exit_code, 0) << validate.stdout_data << validate.stderr_data;
    // This oci-image-tool does not descend into a nested index, so also validate
    // each document and a flat layout whose index.json names the manifest itself
    // (that walks config and layers, checking sizes and digests).
    const ImageManifest& entry = image.manifests[0];
    fs::path blobs = layout / "blobs/sha256";
    for (const auto& [type, digest] : std::vector<std::pair<std::string, crypto::Digest>>{
             {"imageIndex", image.index_descriptor.digest},
             {"manifest", entry.manifest_descriptor.digest},
             {"config", entry.config_descriptor.digest}}) {
      auto check =
          run({"oci-image-tool", "validate", "--type", type, (blobs / digest.hex()).string()});
      EXPECT_EQ(check.exit_code, 0) << type << check.stdout_data << check.stderr_data;
    }
    fs::path flat = path() / "flat";
    fs::create_directories(flat);
    fs::copy(layout / "blobs", flat / "blobs",
             fs::copy_options::recursive | fs::copy_options::create_hard_links);
    fs::copy_file(layout / "oci-layout", flat / "oci-layout");
    Index flat_index;
    Descriptor manifest = entry.manifest_descriptor;
    manifest.annotations[std::string(k_annotation_ref_name)] = "latest";
    flat_index.manifests.push_back(manifest);
    ASSERT_TRUE(util::write_file_atomic(flat / "index.json", flat_index.to_json()).ok());
    auto strict = run({"oci-image-tool", "validate", "--type", "image", flat.string()});
    EXPECT_EQ(strict.exit_code, 0) << strict.stdout_data << strict.stderr_data;
    EXPECT_EQ(strict.stderr_data.find("unknown media type"), std::string::npos)
        << strict.stderr_data;
  }
  if (have("skopeo")) {
    auto inspect = run({"skopeo", "inspect", "oci:" + layout.string() + ":latest"});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.stderr_data;
    auto json = nlohmann::json::parse(inspect.stdout_data);
    EXPECT_EQ(json["Architecture"], "amd64");
    EXPECT_EQ(json["Os"], "linux");
    ASSERT_EQ(json["Layers"].size(), 1U);
    EXPECT_EQ(json["Layers"][0], image.manifests[0].layers[0].descriptor.digest.str());
    EXPECT_EQ(json["Env"][0], "PATH=/usr/bin:/bin");
  }
  if (have("umoci")) {
    fs::path bundle = path() / "bundle";
    auto unpack = run({"umoci", "unpack", "--image", layout.string() + ":latest", bundle.string()});
    ASSERT_EQ(unpack.exit_code, 0) << unpack.stderr_data;
    auto hello = util::read_file(bundle / "rootfs/app/hello-amd64");
    ASSERT_TRUE(hello.ok());
    EXPECT_EQ(*hello, "hello amd64");
    auto runtime = util::read_file(bundle / "config.json");
    ASSERT_TRUE(runtime.ok());
    auto json = nlohmann::json::parse(*runtime);
    EXPECT_EQ(json["process"]["cwd"], "/app");
    EXPECT_EQ(json["process"]["args"][0], "/app/hello");
  }
}

TEST_F(OciWriterTest, IndexJsonKeepsOtherRefs) {
  Image first = make_image(path(), {"amd64"}, "one ");
  Image second = make_image(path(), {"amd64"}, "two ");
  Image third = make_image(path(), {"amd64"}, "three ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, first, "a").ok());
  ASSERT_TRUE(write_oci_layout(layout, second, "b").ok());
  ASSERT_TRUE(write_oci_layout(layout, third, "a").ok());
  Index index = read_index(layout);
  ASSERT_EQ(index.manifests.size(), 2U);
  EXPECT_EQ(ref_of(index.manifests[0]), "a");
  EXPECT_EQ(index.manifests[0].digest, third.index_descriptor.digest);
  EXPECT_EQ(ref_of(index.manifests[1]), "b");
  EXPECT_EQ(index.manifests[1].digest, second.index_descriptor.digest);

  auto loaded = load_image(*ImageRef::parse("oci:" + layout.string() + ":b"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->manifests[0].manifest.layers[0].digest,
            second.manifests[0].layers[0].descriptor.digest);
  auto missing = load_image(*ImageRef::parse("oci:" + layout.string() + ":c"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
  EXPECT_NE(missing.error().message.find("\"c\""), std::string::npos);
}

// Writing an image under the tag it already has changes no file: a rebuild
// that changed nothing leaves the layout as it was (index.json not replaced).
TEST_F(OciWriterTest, TheSameImageUnderItsTagAgainReplacesNothing) {
  Image image = make_image(path(), {"amd64"}, "one ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, image, "a").ok());
  struct stat before {};
  ASSERT_EQ(::stat((layout / "index.json").c_str(), &before), 0);
  ASSERT_TRUE(write_oci_layout(layout, image, "a").ok());
  struct stat after {};
  ASSERT_EQ(::stat((layout / "index.json").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "index.json was replaced";
  // Under a new tag it is written.
  ASSERT_TRUE(write_oci_layout(layout, image, "b").ok());
  ASSERT_EQ(::stat((layout / "index.json").c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);
  EXPECT_EQ(read_index(layout).manifests.size(), 2U);
}

TEST_F(OciWriterTest, ConcurrentWritersKeepEveryRef) {
  std::vector<Image> images;
  for (int i = 0; i < 4; ++i) {
    images.push_back(make_image(path(), {"amd64"}, "c" + std::to_string(i) + " "));
  }
  fs::path layout = path() / "layout";
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      if (!write_oci_layout(layout, images[static_cast<size_t>(i)], "r" + std::to_string(i)).ok()) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  Index index = read_index(layout);
  ASSERT_EQ(index.manifests.size(), 4U);
  std::set<std::string> refs;
  for (const auto& descriptor : index.manifests) {
    refs.insert(ref_of(descriptor));
  }
  EXPECT_EQ(refs, (std::set<std::string>{"r0", "r1", "r2", "r3"}));
}

TEST_F(OciWriterTest, DefaultRefServesOnlyAnUntaggedImage) {
  Image image = make_image(path(), {"amd64"}, "default ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, image, "v1").ok());
  auto ref = *ImageRef::parse("oci:" + layout.string());
  EXPECT_FALSE(load_image(ref).ok());

  Index untagged;
  untagged.manifests.push_back(image.index_descriptor);
  ASSERT_TRUE(util::write_file_atomic(layout / "index.json", untagged.to_json()).ok());
  auto loaded = load_image(ref);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->manifests.size(), 1U);
}

TEST_F(OciWriterTest, FailedWriteLeavesIndexIntact) {
  Image good = make_image(path(), {"amd64"}, "good ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, good, "latest").ok());
  auto before = util::read_file(layout / "index.json");
  ASSERT_TRUE(before.ok());

  Image broken = make_image(path(), {"amd64"}, "broken ");
  fs::remove(broken.manifests[0].layers[0].file);
  auto status = write_oci_layout(layout, broken, "latest");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("broken-hello-amd64.tar.gz"), std::string::npos)
      << status.error().message;
  auto after = util::read_file(layout / "index.json");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

TEST_F(OciWriterTest, ReaderRoundTripMultiArch) {
  Image image = make_image(path(), {"amd64", "arm64"}, "multi ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, image, "v1").ok());
  auto loaded = load_image(*ImageRef::parse("oci:" + layout.string() + ":v1"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->manifests.size(), 2U);
  ASSERT_TRUE(loaded->index.has_value());
  EXPECT_EQ(loaded->index_descriptor->digest, image.index_descriptor.digest);
  for (size_t i = 0; i < 2; ++i) {
    const LoadedManifest& manifest = loaded->manifests[i];
    EXPECT_EQ(manifest.platform, image.manifests[i].platform);
    EXPECT_EQ(manifest.config, image.manifests[i].config);
    EXPECT_EQ(manifest.config_json, image.manifests[i].config_json);
    EXPECT_EQ(manifest.manifest_json, image.manifests[i].manifest_json);
    EXPECT_EQ(manifest.descriptor.digest, image.manifests[i].manifest_descriptor.digest);
    ASSERT_EQ(manifest.layer_files.size(), 1U);
    EXPECT_EQ(*util::read_file(manifest.layer_files[0]),
              *util::read_file(image.manifests[i].layers[0].file));
  }
  if (have("skopeo")) {
    auto inspect =
        run({"skopeo", "--override-arch", "arm64", "inspect", "oci:" + layout.string() + ":v1"});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.stderr_data;
    EXPECT_EQ(nlohmann::json::parse(inspect.stdout_data)["Architecture"], "arm64");
  }
}

TEST_F(OciWriterTest, CorruptedBlobsAreDetected) {
  Image image = make_image(path(), {"amd64"}, "corrupt ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, image, "latest").ok());
  auto ref = *ImageRef::parse("oci:" + layout.string());

  // Layer: same size, different bytes. Replace the file (it may be a hard link).
  const Descriptor& layer = image.manifests[0].layers[0].descriptor;
  fs::path blob = layout / "blobs/sha256" / layer.digest.hex();
  std::string bytes = *util::read_file(blob);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x55);
  fs::remove(blob);
  ASSERT_TRUE(util::write_file_atomic(blob, bytes).ok());
  auto loaded = load_image(ref);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find(layer.digest.str()), std::string::npos)
      << loaded.error().message;

  // Truncated config: wrong size.
  fs::remove(blob);
  ASSERT_TRUE(
      util::write_file_atomic(blob, *util::read_file(image.manifests[0].layers[0].file)).ok());
  ASSERT_TRUE(load_image(ref).ok());
  const Descriptor& config = image.manifests[0].config_descriptor;
  fs::path config_blob = layout / "blobs/sha256" / config.digest.hex();
  ASSERT_TRUE(util::write_file_atomic(config_blob, "{}").ok());
  loaded = load_image(ref);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find(config.digest.str()), std::string::npos);

  // Missing blob.
  fs::remove(config_blob);
  loaded = load_image(ref);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find(config.digest.str()), std::string::npos);
}

TEST_F(OciWriterTest, OciArchiveIsDeterministicAndReadable) {
  Image image = make_image(path(), {"amd64"}, "archive ");
  fs::path first = path() / "a.tar";
  fs::path second = path() / "b.tar";
  ASSERT_TRUE(write_oci_archive(first, image, "latest").ok());
  ASSERT_TRUE(write_oci_archive(second, image, "latest").ok());
  EXPECT_EQ(*util::read_file(first), *util::read_file(second));

  auto loaded = load_image(*ImageRef::parse("oci-archive:" + first.string() + ":latest"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->manifests.size(), 1U);
  EXPECT_EQ(loaded->manifests[0].config, image.manifests[0].config);
  EXPECT_EQ(*util::read_file(loaded->manifests[0].layer_files[0]),
            *util::read_file(image.manifests[0].layers[0].file));

  if (have("skopeo")) {
    auto inspect = run({"skopeo", "inspect", "oci-archive:" + first.string() + ":latest"});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.stderr_data;
    EXPECT_EQ(nlohmann::json::parse(inspect.stdout_data)["Layers"][0],
              image.manifests[0].layers[0].descriptor.digest.str());
  }
}

TEST_F(OciWriterTest, DockerArchiveReadableBySkopeoAndReader) {
  Image image = make_image(path(), {"amd64"}, "docker ");
  fs::path file = path() / "docker.tar";
  ASSERT_TRUE(write_docker_archive(file, image, "myapp", "1.0").ok());

  if (have("skopeo")) {
    auto inspect = run({"skopeo", "inspect", "docker-archive:" + file.string()});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.stderr_data;
    auto json = nlohmann::json::parse(inspect.stdout_data);
    EXPECT_EQ(json["Architecture"], "amd64");
    EXPECT_EQ(json["Layers"].size(), 1U);
    auto oci = run({"skopeo", "inspect", "oci-archive:" + file.string() + ":1.0"});
    EXPECT_EQ(oci.exit_code, 0) << oci.stderr_data;
  }

  for (const std::string& text :
       {"docker-archive:" + file.string(), "docker-archive:" + file.string() + ":myapp:1.0"}) {
    auto loaded = load_image(*ImageRef::parse(text));
    ASSERT_TRUE(loaded.ok()) << text << ": " << loaded.error().message;
    ASSERT_EQ(loaded->manifests.size(), 1U);
    const LoadedManifest& manifest = loaded->manifests[0];
    EXPECT_EQ(manifest.config_json, image.manifests[0].config_json);
    EXPECT_EQ(manifest.platform, (Platform{"linux", "amd64", ""}));
    ASSERT_EQ(manifest.manifest.layers.size(), 1U);
    EXPECT_EQ(manifest.manifest.layers[0].digest, image.manifests[0].layers[0].descriptor.digest);
    // The manifest made for a docker save archive is an OCI one.
    EXPECT_EQ(manifest.manifest.media_type, k_media_oci_manifest);
    EXPECT_EQ(manifest.manifest.layers[0].media_type, k_media_oci_layer_gzip);
  }
  auto wrong = load_image(*ImageRef::parse("docker-archive:" + file.string() + ":other:1.0"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind, ErrorKind::NotFound);

  Image multi = make_image(path(), {"amd64", "arm64"}, "multi ");
  EXPECT_FALSE(write_docker_archive(path() / "m.tar", multi, "x", "y").ok());
  ASSERT_TRUE(
      write_docker_archive(path() / "m.tar", multi, "x", "y", Platform{"linux", "arm64", ""}).ok());
  auto arm = load_image(*ImageRef::parse("docker-archive:" + (path() / "m.tar").string()));
  ASSERT_TRUE(arm.ok()) << arm.error().message;
  EXPECT_EQ(arm->manifests[0].platform.architecture, "arm64");
}

// Issue 11, item 7: an output blob never shares an inode with its source (the
// cache), so damage to one never reaches the other.
TEST_F(OciWriterTest, LayoutBlobsAreCopiesNotLinks) {
  Image image = make_image(path(), {"amd64"}, "inode ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, image, "latest").ok());
  const LayerBlob& layer = image.manifests[0].layers[0];
  fs::path blob = layout / "blobs/sha256" / layer.descriptor.digest.hex();
  struct stat source {};
  struct stat placed {};
  ASSERT_EQ(::stat(layer.file.c_str(), &source), 0);
  ASSERT_EQ(::stat(blob.c_str(), &placed), 0);
  EXPECT_NE(source.st_ino, placed.st_ino);
  EXPECT_EQ(placed.st_nlink, 1U);
  EXPECT_EQ(*util::read_file(blob), *util::read_file(layer.file));

  // Damage the source in place afterwards: the output is untouched.
  std::string before = *util::read_file(blob);
  {
    FILE* f = std::fopen(layer.file.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 10, SEEK_SET);
    std::fputc(0x42 ^ before[10], f);
    std::fclose(f);
  }
  EXPECT_EQ(*util::read_file(blob), before);
}

// A source whose bytes do not match the layer's digest is refused, naming the
// file, and nothing is placed under the digest.
TEST_F(OciWriterTest, ABlobCutShortInTheLayoutIsWrittenAgain) {
  Image image = make_image(path(), {"amd64"}, "cut ");
  fs::path layout = path() / "layout";
  ASSERT_TRUE(write_oci_layout(layout, image, "one").ok());
  const LayerBlob& layer = image.manifests[0].layers[0];
  const fs::path blob = layout / "blobs/sha256" / layer.descriptor.digest.hex();
  const fs::path config =
      layout / "blobs/sha256" / image.manifests[0].config_descriptor.digest.hex();
  fs::resize_file(blob, layer.descriptor.size / 2);
  fs::resize_file(config, 0);
  // Written again under another tag: the blobs are whole again.
  ASSERT_TRUE(write_oci_layout(layout, image, "two").ok());
  EXPECT_EQ(fs::file_size(blob), layer.descriptor.size);
  EXPECT_EQ(fs::file_size(config), image.manifests[0].config_descriptor.size);
  auto hashed = digest_file(blob);
  ASSERT_TRUE(hashed.ok());
  EXPECT_EQ(hashed->digest, layer.descriptor.digest);
}

// Rewrites the (first) image manifest that `layout`'s "latest" names with
// `edit`, as a new blob, and the index above it to point at it (a layout
// another tool wrote oddly).
void edit_manifest(const fs::path& layout, const std::function<void(nlohmann::json&)>& edit) {
  auto store = BlobStore::open(layout / "blobs");
  ASSERT_TRUE(store.ok());
  auto blob_json = [&](const nlohmann::json& descriptor) {
    const std::string digest = descriptor["digest"];
    return nlohmann::json::parse(
        *util::read_file(layout / "blobs/sha256" / digest.substr(strlen("sha256:"))));
  };
  auto repoint = [&](nlohmann::json& descriptor, const nlohmann::json& json) {
    auto put = store->put(json.dump(), descriptor["mediaType"]);
    ASSERT_TRUE(put.ok());
    descriptor["digest"] = put->digest.str();
    descriptor["size"] = put->size;
  };
  auto top = nlohmann::json::parse(*util::read_file(layout / "index.json"));
  auto index = blob_json(top["manifests"][0]);
  auto manifest = blob_json(index["manifests"][0]);
  edit(manifest);
  repoint(index["manifests"][0], manifest);
  repoint(top["manifests"][0], index);
  ASSERT_TRUE(util::write_file_atomic(layout / "index.json", top.dump()).ok());
}

TEST_F(OciWriterTest, AManifestThatDisagreesWithItsConfigOrHasNoLayerTypeIsRefused) {
  Image image = make_image(path(), {"amd64"}, "odd ");
  for (int round = 0; round < 2; ++round) {
    fs::path layout = path() / ("odd" + std::to_string(round));
    ASSERT_TRUE(write_oci_layout(layout, image, "latest").ok());
    edit_manifest(layout, [&](nlohmann::json& manifest) {
      if (round == 0) {
        manifest["layers"].push_back(manifest["layers"][0]);  // two layers, one diff_id
      } else {
        manifest["layers"][0]["mediaType"] = "application/vnd.example.weird";
      }
    });
    auto loaded = load_image(*ImageRef::parse("oci:" + layout.string()));
    ASSERT_FALSE(loaded.ok()) << round;
    EXPECT_NE(loaded.error().message.find(round == 0 ? "has 2 layers, its config 1 diff_ids"
                                                     : "'application/vnd.example.weird'"),
              std::string::npos)
        << loaded.error().message;
  }
}

TEST_F(OciWriterTest, AnArtifactManifestIsMarkedNotAnImage) {
  Image image = make_image(path(), {"amd64"}, "artifact ");
  fs::path layout = path() / "artifact";
  ASSERT_TRUE(write_oci_layout(layout, image, "latest").ok());
  edit_manifest(layout, [&](nlohmann::json& manifest) {
    manifest["artifactType"] = "application/spdx+json";
    manifest["config"]["mediaType"] = std::string(k_media_oci_empty);
    manifest["layers"][0]["mediaType"] = "application/spdx+json";
  });
  auto loaded = load_image(*ImageRef::parse("oci:" + layout.string()));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;  // copied as it is
  ASSERT_EQ(loaded->manifests.size(), 1U);
  EXPECT_TRUE(loaded->manifests[0].artifact);
}

TEST_F(OciWriterTest, DamagedSourceBlobIsRefusedByEveryWriter) {
  Image image = make_image(path(), {"amd64"}, "damaged ");
  const LayerBlob& layer = image.manifests[0].layers[0];
  std::string bytes = *util::read_file(layer.file);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x55);
  fs::remove(layer.file);
  ASSERT_TRUE(util::write_file_atomic(layer.file, bytes).ok());

  fs::path layout = path() / "layout";
  Status status = write_oci_layout(layout, image, "latest");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(status.error().message.find(layer.file.string()), std::string::npos)
      << status.error().message;
  // A layout that did not exist is not left half-written: not there at all,
  // and nothing of its assembly beside it.
  EXPECT_FALSE(fs::exists(layout));
  EXPECT_TRUE(entries_starting(path(), ".layout.").empty());

  // A new layout assembled in a staging directory is not placed at all, and
  // the staging goes with its owner.
  fs::path fresh = path() / "fresh";
  auto staging = BlobStaging::open(fresh);
  ASSERT_NE(staging, nullptr);
  ASSERT_TRUE(staging->new_layout().has_value());
  status = write_oci_layout(fresh, image, "latest", staging.get());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(status.error().message.find(layer.file.string()), std::string::npos);
  EXPECT_FALSE(fs::exists(fresh));
  staging.reset();
  EXPECT_TRUE(entries_starting(path(), ".fresh.").empty());

  for (bool docker : {false, true}) {
    fs::path archive = path() / (docker ? "d.tar" : "o.tar");
    status = docker ? write_docker_archive(archive, image, "x", "y")
                    : write_oci_archive(archive, image, "latest");
    ASSERT_FALSE(status.ok()) << docker;
    EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(status.error().message.find(layer.file.string()), std::string::npos);
    EXPECT_FALSE(fs::exists(archive));
  }
}

// After Ctrl-C (util::catch_interrupts and a signal), no writer goes on: each
// stops with "interrupted" and leaves neither its output nor a temporary, and
// an existing layout keeps its index. Run in a child, whose signal flag is its
// own. `distill copy` relies on it: it used to write on (or die by the signal).
TEST_F(OciWriterTest, EveryWriterStopsOnceInterrupted) {
  Image image = make_image(path(), {"amd64", "arm64"}, "stopped ");
  Image single = make_image(path(), {"amd64"}, "single ");
  fs::path existing = path() / "existing";
  ASSERT_TRUE(write_oci_layout(existing, make_image(path(), {"amd64"}, "first "), "v1").ok());
  const std::string index_before = *util::read_file(existing / "index.json");
  ASSERT_TRUE(write_oci_archive(path() / "source.tar", image, "v1").ok());

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    (void)::signal(SIGTERM, SIG_DFL);  // a script's background job may have it ignored
    util::catch_interrupts();
    (void)::raise(SIGTERM);
    auto stopped = [](const Status& status, const char* what) {
      if (!status.ok() && status.error().message == "interrupted") {
        return true;
      }
      std::fprintf(stderr, "%s: %s\n", what,
                   status.ok() ? "written" : status.error().message.c_str());
      return false;
    };
    if (!stopped(write_oci_layout(path() / "new", image, "latest"), "a new layout")) {
      ::_exit(10);
    }
    if (!stopped(write_oci_layout(existing, image, "v2"), "an existing layout")) {
      ::_exit(11);
    }
    if (!stopped(write_oci_archive(path() / "o.tar", image, "latest"), "an oci archive")) {
      ::_exit(12);
    }
    if (!stopped(write_docker_archive(path() / "d.tar", single, "x", "y"), "a docker archive")) {
      ::_exit(13);
    }
    auto source = ImageRef::parse("oci-archive:" + (path() / "source.tar").string());
    auto loaded = load_image(*source, LayerCheck::Digest);
    ::_exit(stopped(loaded.ok() ? Status() : Status(loaded.error()), "reading an archive") ? 0
                                                                                           : 14);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(path() / "new"));
  EXPECT_TRUE(entries_starting(path(), ".new.").empty());
  EXPECT_FALSE(fs::exists(path() / "o.tar"));
  EXPECT_FALSE(fs::exists(path() / "d.tar"));
  EXPECT_TRUE(entries_starting(path(), ".o.tar.").empty());
  EXPECT_TRUE(entries_starting(path(), ".d.tar.").empty());
  EXPECT_EQ(*util::read_file(existing / "index.json"), index_before);
  EXPECT_TRUE(entries_starting(existing / "blobs/sha256", ".").empty());
  for (const auto& layer : image.manifests[0].layers) {
    EXPECT_FALSE(fs::exists(existing / "blobs/sha256" / layer.descriptor.digest.hex()));
  }
}

// Issue 11, item 6: many writers placing the same blob at once (each from its
// own copy of the source, renamed over the shared source meanwhile) all succeed.
TEST_F(OciWriterTest, ConcurrentPutOfTheSameBlobSucceeds) {
  std::string content(1 << 18, 'z');
  crypto::Digest digest = crypto::sha256(content);
  fs::path source = path() / "source";
  ASSERT_TRUE(util::write_file_atomic(source, content).ok());
  for (int round = 0; round < 20; ++round) {
    fs::path dir = path() / ("store" + std::to_string(round));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        if (t % 2 == 0) {  // republish the source, as another build's layer writer does
          if (!util::write_file_atomic(source, content).ok()) {
            ++failures;
          }
        }
        auto store = BlobStore::open(dir);
        if (!store.ok() || !store->put_file(digest, source).ok()) {
          ++failures;
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    ASSERT_EQ(failures.load(), 0) << "round " << round;
    EXPECT_EQ(*util::read_file(dir / "sha256" / digest.hex()), content);
    for (const auto& entry : fs::directory_iterator(dir / "sha256")) {
      EXPECT_EQ(entry.path().filename(), digest.hex()) << "a temporary file was left";
    }
  }
}

// A layer this process just made and hashed is copied without hashing it
// again; any other file is hashed on the way and refused when it differs.
TEST_F(OciWriterTest, PutFileHashesAllButLayersHashedHere) {
  std::string content(3 << 20, 'q');
  content[12345] = 'r';
  crypto::Digest digest = crypto::sha256(content);
  fs::path source = path() / "source";
  ASSERT_TRUE(util::write_file_atomic(source, content).ok());
  auto store = BlobStore::open(path() / "fresh");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->put_file(digest, source, /*hashed=*/true).ok());
  EXPECT_EQ(*util::read_file(store->path_for(digest)), content);
  struct stat a {};
  struct stat b {};
  ASSERT_EQ(::stat(source.c_str(), &a), 0);
  ASSERT_EQ(::stat(store->path_for(digest).c_str(), &b), 0);
  EXPECT_NE(a.st_ino, b.st_ino) << "a copy, not a link";

  crypto::Digest other = crypto::sha256("something else");
  auto checked = BlobStore::open(path() / "checked");
  ASSERT_TRUE(checked.ok());
  Status refused = checked->put_file(other, source);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Corrupt);
  EXPECT_FALSE(checked->contains(other));
}

// A blob staged while the build runs sits in a hidden directory beside the
// layout, is moved in when the layout is written, and is a copy of its
// source, not a link; the staging directory goes with its owner. A layout
// that does not exist yet is assembled whole in the staging directory and
// renamed into place, with the same files, modes and directories a layout
// written in place has; a second image for it is then added in place.
TEST_F(OciWriterTest, StagedBlobsAreMovedInAsCopies) {
  Image image = make_image(path(), {"amd64"}, "staged ");
  Image second = make_image(path(), {"amd64"}, "second ");
  const LayerBlob& layer = image.manifests[0].layers[0];
  fs::path layout = path() / "layout";
  ino_t staged_inode = 0;
  auto staging = stage_new_layout(layout, layer, staged_inode);
  ASSERT_NE(staging, nullptr);
  EXPECT_EQ(staging->dir().parent_path(), path());
  EXPECT_TRUE(staging->dir().filename().string().starts_with(".layout.blobs.tmp."));
  EXPECT_EQ(staging->new_layout(), staging->dir());
  fs::path staged = staging->dir() / "blobs/sha256" / layer.descriptor.digest.hex();
  staging->stage(layer.descriptor.digest, layer.file);  // once is enough
  EXPECT_EQ(inode_of(staged), staged_inode);
  EXPECT_FALSE(fs::exists(layout)) << "nothing in the layout before it is written";

  ASSERT_TRUE(write_oci_layout(layout, image, "latest", staging.get()).ok());
  EXPECT_EQ(staging->new_layout(), std::nullopt) << "published";
  fs::path blob = layout / "blobs/sha256" / layer.descriptor.digest.hex();
  EXPECT_EQ(inode_of(blob), staged_inode) << "moved in, not copied again";
  EXPECT_NE(inode_of(blob), inode_of(layer.file));
  struct stat placed {};
  ASSERT_EQ(::stat(blob.c_str(), &placed), 0);
  EXPECT_EQ(placed.st_nlink, 1U);
  EXPECT_EQ(*util::read_file(blob), *util::read_file(layer.file));
  EXPECT_FALSE(fs::exists(staged));
  auto loaded = load_image(*ImageRef::parse("oci:" + layout.string() + ":latest"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;

  // The same tree as a layout written in place, down to the modes.
  fs::path in_place = path() / "in-place";
  ASSERT_TRUE(write_oci_layout(in_place, image, "latest").ok());
  struct stat layout_dir {};
  struct stat in_place_dir {};
  ASSERT_EQ(::stat(layout.c_str(), &layout_dir), 0);
  ASSERT_EQ(::stat(in_place.c_str(), &in_place_dir), 0);
  EXPECT_EQ(layout_dir.st_mode, in_place_dir.st_mode);
  auto tree = [](const fs::path& root) {
    std::map<std::string, std::pair<mode_t, std::string>> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      struct stat st {};
      EXPECT_EQ(::lstat(entry.path().c_str(), &st), 0);
      files[fs::relative(entry.path(), root).string()] = {
          st.st_mode, entry.is_regular_file() ? *util::read_file(entry.path()) : ""};
    }
    return files;
  };
  EXPECT_EQ(tree(layout), tree(in_place));

  ASSERT_TRUE(write_oci_layout(layout, second, "second", staging.get()).ok());
  Index index = read_index(layout);
  ASSERT_EQ(index.manifests.size(), 2U);
  EXPECT_EQ(ref_of(index.manifests[0]), "latest");
  EXPECT_EQ(ref_of(index.manifests[1]), "second");

  staging.reset();
  EXPECT_TRUE(entries_starting(path(), ".layout.").empty());
}

// A layout that another writer makes between the staging's start and the
// write is written in place, and so is every later image for it: its refs
// are kept and the staged blobs are still moved in.
TEST_F(OciWriterTest, ALayoutMadeMeanwhileIsWrittenInPlace) {
  Image image = make_image(path(), {"amd64"}, "late ");
  Image other = make_image(path(), {"amd64"}, "other ");
  const LayerBlob& layer = image.manifests[0].layers[0];
  fs::path layout = path() / "layout";
  ino_t staged_inode = 0;
  auto staging = stage_new_layout(layout, layer, staged_inode);
  ASSERT_NE(staging, nullptr);

  ASSERT_TRUE(write_oci_layout(layout, other, "other").ok());
  ASSERT_TRUE(write_oci_layout(layout, image, "latest", staging.get()).ok());
  Index index = read_index(layout);
  ASSERT_EQ(index.manifests.size(), 2U);
  EXPECT_EQ(ref_of(index.manifests[0]), "other");
  EXPECT_EQ(ref_of(index.manifests[1]), "latest");
  EXPECT_EQ(inode_of(layout / "blobs/sha256" / layer.descriptor.digest.hex()), staged_inode);
  EXPECT_EQ(staging->new_layout(), std::nullopt) << "written in place from then on";
  Image third = make_image(path(), {"amd64"}, "third ");
  staging->stage(third.manifests[0].layers[0].descriptor.digest, third.manifests[0].layers[0].file);
  ASSERT_TRUE(write_oci_layout(layout, third, "third", staging.get()).ok());
  for (const char* ref : {"other", "latest", "third"}) {
    auto loaded = load_image(*ImageRef::parse("oci:" + layout.string() + ":" + ref));
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  }
  staging.reset();
  EXPECT_TRUE(entries_starting(path(), ".layout.").empty());
}

// A build that fails (or never writes the layout) leaves nothing: no layout,
// no staging directory.
TEST_F(OciWriterTest, StagingThatIsNeverWrittenLeavesNothing) {
  Image image = make_image(path(), {"amd64"}, "unused ");
  const LayerBlob& layer = image.manifests[0].layers[0];
  {
    auto staging = BlobStaging::open(path() / "out");
    ASSERT_NE(staging, nullptr);
    staging->stage(layer.descriptor.digest, layer.file);
  }
  EXPECT_FALSE(fs::exists(path() / "out"));
  EXPECT_TRUE(entries_starting(path(), ".out.").empty());
}

// Staging is only a head start: a blob the layout holds already is not staged,
// one whose copy failed is left to the writer, and a layout whose parent is
// missing gets no staging at all.
TEST_F(OciWriterTest, StagingFallsBackToTheWriter) {
  Image image = make_image(path(), {"amd64"}, "fallback ");
  const LayerBlob& layer = image.manifests[0].layers[0];
  const crypto::Digest& digest = layer.descriptor.digest;
  fs::path layout = path() / "layout";

  auto unreadable = BlobStaging::open(layout);
  ASSERT_NE(unreadable, nullptr);
  unreadable->stage(digest, path() / "no-such-file");
  EXPECT_FALSE(fs::exists(*unreadable->new_layout() / "blobs/sha256" / digest.hex()));
  EXPECT_FALSE(unreadable->publish(digest, path() / "x"));
  ASSERT_TRUE(write_oci_layout(layout, image, "latest", unreadable.get()).ok());
  EXPECT_EQ(*util::read_file(layout / "blobs/sha256" / digest.hex()), *util::read_file(layer.file));

  auto present = BlobStaging::open(layout);
  ASSERT_NE(present, nullptr);
  EXPECT_EQ(present->new_layout(), std::nullopt) << "the layout exists";
  present->stage(digest, layer.file);
  EXPECT_FALSE(fs::exists(present->dir() / digest.hex())) << "the layout holds it already";
  ASSERT_TRUE(write_oci_layout(layout, image, "again", present.get()).ok());

  EXPECT_EQ(BlobStaging::open(path() / "missing" / "layout"), nullptr);
  EXPECT_NE(BlobStaging::open(path() / "trailing/"), nullptr);
}

// What a killed build left beside a layout (a staging directory nobody holds)
// is removed by the next staging for that layout, and only that.
TEST_F(OciWriterTest, AnAbandonedStagingIsSwept) {
  fs::create_directories(path() / ".layout.blobs.tmp.abc123");
  std::ofstream(path() / ".layout.blobs.tmp.abc123" / "blob") << "left";
  fs::create_directories(path() / ".other.blobs.tmp.abc123");
  auto staging = BlobStaging::open(path() / "layout");
  ASSERT_NE(staging, nullptr);
  EXPECT_FALSE(fs::exists(path() / ".layout.blobs.tmp.abc123"));
  EXPECT_TRUE(fs::exists(path() / ".other.blobs.tmp.abc123"));

  // A write of the layout with nothing staged (a rebuild from the cache)
  // sweeps too, but not a staging in use.
  Image image = make_image(path(), {"amd64"}, "swept ");
  ASSERT_TRUE(write_oci_layout(path() / "other", image, "latest").ok());
  EXPECT_FALSE(fs::exists(path() / ".other.blobs.tmp.abc123"));
  auto live = BlobStaging::open(path() / "other");
  ASSERT_NE(live, nullptr);
  ASSERT_TRUE(write_oci_layout(path() / "other", image, "again").ok());
  EXPECT_TRUE(fs::exists(live->dir())) << "a staging in use is kept";
}

TEST_F(OciWriterTest, RegistryRefsAreNotReadHere) {
  auto loaded = load_image(*ImageRef::parse("docker://127.0.0.1:1/x:y"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Unsupported);
}

}  // namespace
}  // namespace distill::oci
