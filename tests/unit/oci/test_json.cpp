// Golden JSON and round trips for the OCI documents (config, manifest, index),
// descriptors and platforms.
#include <gtest/gtest.h>

#include "crypto/sha256.hpp"
#include "oci/descriptor.hpp"
#include "oci/image.hpp"
#include "oci/image_config.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"

namespace distill::oci {
namespace {

const std::string k_empty_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

ImageConfig sample_config() {
  ImageConfig config;
  config.architecture = "amd64";
  config.created = format_rfc3339(0);
  config.user = "65532";
  config.env = {"PATH=/usr/bin"};
  config.entrypoint = std::vector<std::string>{"/app"};
  config.working_dir = "/";
  config.exposed_ports = {"8000/tcp"};
  config.volumes = {"/data"};
  config.labels = {{"a", "b"}};
  config.stop_signal = "SIGTERM";
  config.diff_ids = {crypto::sha256("")};
  config.history = {HistoryEntry{"1970-01-01T00:00:00Z", "distill", "", false}};
  return config;
}

TEST(Rfc3339, FormatsUtc) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_rfc3339(951782400), "2000-02-29T00:00:00Z");  // a leap day
  EXPECT_EQ(format_rfc3339(4102444799), "2099-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
}

TEST(ImageConfig, GoldenJson) {
  EXPECT_EQ(sample_config().to_json(),
            R"({"architecture":"amd64","config":{"Entrypoint":["/app"],"Env":["PATH=/usr/bin"],)"
            R"("ExposedPorts":{"8000/tcp":{}},"Labels":{"a":"b"},"StopSignal":"SIGTERM",)"
            R"("User":"65532","Volumes":{"/data":{}},"WorkingDir":"/"},)"
            R"("created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z",)"
            R"("created_by":"distill"}],"os":"linux","rootfs":{"diff_ids":["sha256:)" +
                k_empty_hex + R"("],"type":"layers"}})");
}

TEST(ImageConfig, MinimalOmitsEmptyFields) {
  ImageConfig config;
  config.architecture = "arm64";
  config.variant = "v8";
  EXPECT_EQ(config.to_json(), R"({"architecture":"arm64","config":{},"os":"linux",)"
                              R"("rootfs":{"diff_ids":[],"type":"layers"},"variant":"v8"})");
}

TEST(ImageConfig, EmptyEntrypointIsKeptWhenSet) {
  ImageConfig config;
  config.architecture = "amd64";
  config.entrypoint = std::vector<std::string>{};
  auto parsed = ImageConfig::parse(config.to_json(), "test");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_TRUE(parsed->entrypoint.has_value());
  EXPECT_TRUE(parsed->entrypoint->empty());
  EXPECT_FALSE(parsed->cmd.has_value());
}

TEST(ImageConfig, RoundTrip) {
  ImageConfig config = sample_config();
  config.cmd = std::vector<std::string>{"--port", "8000"};
  config.author = "me";
  config.history.push_back(HistoryEntry{"", "ENV x", "c", true});
  auto parsed = ImageConfig::parse(config.to_json(), "test");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, config);
  EXPECT_EQ(parsed->to_json(), config.to_json());
}

TEST(ImageConfig, ParsesDockerStyleNulls) {
  auto parsed = ImageConfig::parse(
      R"({"architecture":"amd64","os":"linux","config":{"Env":null,"Cmd":["sh"],)"
      R"("Entrypoint":null,"Labels":null},"rootfs":{"type":"layers","diff_ids":[]}})",
      "docker config");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_FALSE(parsed->entrypoint.has_value());
  EXPECT_EQ(parsed->cmd, std::vector<std::string>{"sh"});
  EXPECT_TRUE(parsed->env.empty());
}

TEST(ImageConfig, ErrorsNameOrigin) {
  auto bad = ImageConfig::parse("{not json", "blobs/sha256/abc");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(bad.error().message.find("blobs/sha256/abc"), std::string::npos);

  auto wrong = ImageConfig::parse(R"({"config":{"User":5}})", "cfg");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("User"), std::string::npos);

  EXPECT_FALSE(ImageConfig::parse(R"({"rootfs":{"diff_ids":["md5:x"]}})", "c").ok());
  EXPECT_FALSE(ImageConfig::parse("[]", "c").ok());
}

Descriptor layer_descriptor() {
  Descriptor layer;
  layer.media_type = std::string(k_media_oci_layer_gzip);
  layer.digest = crypto::sha256("layer");
  layer.size = 32;
  return layer;
}

TEST(Manifest, GoldenJson) {
  Manifest manifest;
  manifest.config = describe("", std::string(k_media_oci_config));
  manifest.layers = {layer_descriptor()};
  EXPECT_EQ(manifest.to_json(),
            R"({"config":{"digest":"sha256:)" + k_empty_hex +
                R"(","mediaType":"application/vnd.oci.image.config.v1+json","size":0},)"
                R"("layers":[{"digest":")" +
                crypto::sha256("layer").str() +
                R"(","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":32}],)"
                R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})");
}

TEST(Manifest, RoundTripWithSubjectAndAnnotations) {
  Manifest manifest;
  manifest.config = describe("{}", std::string(k_media_oci_config));
  manifest.layers = {layer_descriptor(), layer_descriptor()};
  manifest.layers[1].annotations["k"] = "v";
  manifest.annotations["org.opencontainers.image.created"] = "1970-01-01T00:00:00Z";
  manifest.subject = describe("x", std::string(k_media_oci_manifest));
  manifest.artifact_type = "application/example";
  auto parsed = Manifest::parse(manifest.to_json(), "m");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, manifest);
}

TEST(Manifest, AcceptsDockerSchema2) {
  std::string json =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,)"
      R"("digest":"sha256:)" +
      k_empty_hex +
      R"("},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip",)"
      R"("size":1234,"digest":"sha256:)" +
      k_empty_hex + R"("}]})";
  auto parsed = Manifest::parse(json, "docker");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->media_type, k_media_docker_manifest);
  ASSERT_EQ(parsed->layers.size(), 1U);
  EXPECT_EQ(parsed->layers[0].size, 1234U);
  EXPECT_EQ(parsed->config.media_type, k_media_docker_config);
}

TEST(Manifest, RejectsBadDocuments) {
  EXPECT_FALSE(Manifest::parse(R"({"schemaVersion":1})", "m").ok());
  EXPECT_FALSE(Manifest::parse(R"({"schemaVersion":2,"layers":[]})", "m").ok());
  std::string bad_digest =
      R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:00","size":1},"layers":[]})";
  auto result = Manifest::parse(bad_digest, "mf");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(result.error().message.find("mf: config"), std::string::npos);
  std::string negative = R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" +
                         k_empty_hex + R"(","size":-1},"layers":[]})";
  EXPECT_FALSE(Manifest::parse(negative, "m").ok());
  std::string index_type =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";
  EXPECT_FALSE(Manifest::parse(index_type, "m").ok());
}

TEST(Index, GoldenJson) {
  Index index;
  Descriptor manifest = describe("m", std::string(k_media_oci_manifest));
  manifest.platform = platform_for_debian_arch("arm64");
  index.manifests = {manifest};
  EXPECT_EQ(index.to_json(),
            R"({"manifests":[{"digest":")" + crypto::sha256("m").str() +
                R"(","mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                R"("platform":{"architecture":"arm64","os":"linux","variant":"v8"},"size":1}],)"
                R"("mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
}

TEST(Index, RoundTripAndDockerList) {
  Index index;
  index.annotations["x"] = "y";
  Descriptor manifest = describe("m", std::string(k_media_oci_manifest));
  manifest.annotations[std::string(k_annotation_ref_name)] = "latest";
  index.manifests = {manifest, describe("n", std::string(k_media_oci_index))};
  auto parsed = Index::parse(index.to_json(), "i");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, index);

  std::string list =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",)"
      R"("manifests":[]})";
  auto docker = Index::parse(list, "list");
  ASSERT_TRUE(docker.ok());
  EXPECT_EQ(docker->media_type, k_media_docker_manifest_list);
  EXPECT_TRUE(is_index_media_type(docker->media_type));

  auto sniffed = sniff_media_type(R"({"schemaVersion":2,"manifests":[]})", "s");
  ASSERT_TRUE(sniffed.ok());
  EXPECT_EQ(*sniffed, k_media_oci_index);
}

TEST(MediaTypes, DockerToOci) {
  EXPECT_EQ(to_oci_media_type(k_media_docker_layer_gzip), k_media_oci_layer_gzip);
  EXPECT_EQ(to_oci_media_type(k_media_docker_config), k_media_oci_config);
  EXPECT_EQ(to_oci_media_type(k_media_docker_manifest), k_media_oci_manifest);
  EXPECT_EQ(to_oci_media_type(k_media_docker_manifest_list), k_media_oci_index);
  EXPECT_EQ(to_oci_media_type(k_media_oci_layer_zstd), k_media_oci_layer_zstd);
  EXPECT_TRUE(is_manifest_media_type(k_media_docker_manifest));
  EXPECT_FALSE(is_manifest_media_type(k_media_oci_index));
}

TEST(Platform, DebianArchitectures) {
  EXPECT_EQ(platform_for_debian_arch("amd64"), (Platform{"linux", "amd64", ""}));
  EXPECT_EQ(platform_for_debian_arch("arm64"), (Platform{"linux", "arm64", "v8"}));
  EXPECT_EQ(platform_for_debian_arch("armhf"), (Platform{"linux", "arm", "v7"}));
  EXPECT_EQ(platform_for_debian_arch("armel"), (Platform{"linux", "arm", "v5"}));
  EXPECT_EQ(platform_for_debian_arch("i386"), (Platform{"linux", "386", ""}));
  EXPECT_EQ(platform_for_debian_arch("ppc64el"), (Platform{"linux", "ppc64le", ""}));
  EXPECT_EQ(platform_for_debian_arch("s390x"), (Platform{"linux", "s390x", ""}));
  EXPECT_EQ(platform_for_debian_arch("riscv64"), (Platform{"linux", "riscv64", ""}));
  EXPECT_EQ(platform_for_debian_arch("arm64").str(), "linux/arm64/v8");
}

TEST(Platform, BackToDebianArchitectures) {
  for (const char* arch : {"amd64", "arm64", "armhf", "armel", "i386", "ppc64el", "s390x",
                           "riscv64", "mips64el", "mipsel"}) {
    EXPECT_EQ(debian_arch_for_platform(platform_for_debian_arch(arch)), arch);
  }
  EXPECT_EQ(debian_arch_for_platform(Platform{"linux", "arm", ""}), "armhf");
  EXPECT_EQ(debian_arch_for_platform(Platform{"linux", "arm", "v6"}), "armel");
}

TEST(Platform, ParsesFlagText) {
  auto arm = parse_platform("linux/arm/v7");
  ASSERT_TRUE(arm.ok());
  EXPECT_EQ(*arm, (Platform{"linux", "arm", "v7"}));
  auto amd = parse_platform("linux/amd64");
  ASSERT_TRUE(amd.ok());
  EXPECT_EQ(*amd, (Platform{"linux", "amd64", ""}));
  for (const char* bad : {"amd64", "linux/", "/amd64", "linux/arm/v7/x", "linux//v7", ""}) {
    auto parsed = parse_platform(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("invalid platform '" + std::string(bad) + "'"),
              std::string::npos);
  }
}

TEST(Finalize, FillsDocumentsAndDescriptors) {
  Image image;
  ImageManifest entry;
  entry.platform = platform_for_debian_arch("arm64");
  LayerBlob layer;
  layer.descriptor = layer_descriptor();
  layer.diff_id = crypto::sha256("uncompressed");
  layer.file = "/nonexistent";
  entry.layers.push_back(layer);
  image.manifests.push_back(entry);
  ASSERT_TRUE(finalize(image).ok());
  const ImageManifest& done = image.manifests[0];
  EXPECT_EQ(done.config.architecture, "arm64");
  EXPECT_EQ(done.config.variant, "v8");
  EXPECT_EQ(done.config.diff_ids, std::vector<crypto::Digest>{crypto::sha256("uncompressed")});
  EXPECT_EQ(done.config_descriptor.digest, crypto::sha256(done.config_json));
  EXPECT_EQ(done.manifest_descriptor.digest, crypto::sha256(done.manifest_json));
  EXPECT_EQ(done.manifest_descriptor.platform, entry.platform);
  auto index = Index::parse(image.index_json, "index");
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->manifests.size(), 1U);
  EXPECT_EQ(index->manifests[0], done.manifest_descriptor);
  EXPECT_EQ(image.index_descriptor.digest, crypto::sha256(image.index_json));

  // Deterministic: finalizing again gives the same bytes.
  std::string first = image.index_json;
  ASSERT_TRUE(finalize(image).ok());
  EXPECT_EQ(image.index_json, first);

  Image empty;
  EXPECT_FALSE(finalize(empty).ok());
}

TEST(SelectManifest, ByArchitecture) {
  Image image;
  for (const char* arch : {"amd64", "arm64"}) {
    ImageManifest entry;
    entry.platform = platform_for_debian_arch(arch);
    image.manifests.push_back(entry);
  }
  EXPECT_FALSE(select_manifest(image, Platform{}).ok());
  auto arm = select_manifest(image, Platform{"linux", "arm64", ""});
  ASSERT_TRUE(arm.ok());
  EXPECT_EQ((*arm)->platform.variant, "v8");
  auto missing = select_manifest(image, Platform{"linux", "s390x", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

}  // namespace
}  // namespace distill::oci
