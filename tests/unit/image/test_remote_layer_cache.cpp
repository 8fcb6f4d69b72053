// The layer cache in a registry (remote_layer_cache.hpp): the cache manifest
// written and read back, what is not a cache refused, malformed entries left
// out, the references --cache-from/--cache-to take, and a fetched blob adopted
// into the local layer cache, and --cache-to's merge with the tag against an
// in-memory registry, another build writing the tag at the same moment
// included. Pushes and pulls against a real registry are in
// tests/integration/t_layer_cache_registry.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/fake_registry.hpp"
#include "image/layer_cache.hpp"
#include "image/remote_layer_cache.hpp"
#include "oci/media_types.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

CacheEntry entry(const std::string& key, const std::string& content) {
  CacheEntry e;
  e.key = key;
  e.blob.descriptor.media_type = std::string(oci::k_media_oci_layer_gzip);
  e.blob.descriptor.digest = crypto::sha256(content);
  e.blob.descriptor.size = content.size();
  e.blob.diff_id = crypto::sha256("tar of " + content);
  e.blob.uncompressed_size = 10240;
  return e;
}

TEST(RemoteLayerCache, TheManifestReadsBackAsItsEntries) {
  std::vector<CacheEntry> entries = {entry("k2", "two"), entry("k1", "one")};
  std::string json = layer_cache_manifest(entries);
  EXPECT_EQ(json, layer_cache_manifest(entries)) << "deterministic";
  auto doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["artifactType"], std::string(k_layer_cache_artifact));
  EXPECT_EQ(doc["config"]["mediaType"], std::string(oci::k_media_oci_empty));
  EXPECT_EQ(doc["config"]["size"], 2);
  auto parsed = parse_layer_cache(json, "cache");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->skipped, 0u);
  ASSERT_EQ(parsed->entries.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(parsed->entries[i].key, entries[i].key) << "order kept: newest first";
    EXPECT_EQ(parsed->entries[i].blob.descriptor, entries[i].blob.descriptor);
    EXPECT_EQ(parsed->entries[i].blob.diff_id, entries[i].blob.diff_id);
    EXPECT_EQ(parsed->entries[i].blob.uncompressed_size, 10240u);
  }
}

TEST(RemoteLayerCache, WhatIsNotACacheIsRefusedNamingIt) {
  auto index = parse_layer_cache(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
      "docker://r/x:1");
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("docker://r/x:1: not a distill layer cache"),
            std::string::npos)
      << index.error().message;
  nlohmann::json image = nlohmann::json::parse(layer_cache_manifest({entry("k", "x")}));
  image.erase("artifactType");
  auto plain = parse_layer_cache(image.dump(), "img");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("not a distill layer cache"), std::string::npos);
  EXPECT_FALSE(parse_layer_cache("not json", "junk").ok());
}

TEST(RemoteLayerCache, MalformedEntriesAreLeftOutAndCounted) {
  nlohmann::json doc = nlohmann::json::parse(
      layer_cache_manifest({entry("good", "a"), entry("nokey", "b"), entry("baddiff", "c"),
                            entry("badsize", "d"), entry("config", "e"), entry("good", "f")}));
  auto& layers = doc["layers"];
  layers[1]["annotations"].erase(std::string(k_cache_key_annotation));
  layers[2]["annotations"][std::string(k_cache_diff_id_annotation)] = "sha256:12";
  layers[3]["annotations"][std::string(k_cache_size_annotation)] = "12x";
  layers[4]["mediaType"] = std::string(oci::k_media_oci_config);
  auto parsed = parse_layer_cache(doc.dump(), "cache");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->entries.size(), 1u);
  EXPECT_EQ(parsed->entries[0].key, "good");
  EXPECT_EQ(parsed->entries[0].blob.descriptor.digest, crypto::sha256("a")) << "the first wins";
  EXPECT_EQ(parsed->skipped, 5u);
}

TEST(RemoteLayerCache, ReferencesAreRegistryOnesWithTheCacheTagByDefault) {
  auto plain = layer_cache_ref("docker://127.0.0.1:5000/ci/cache", "--cache-from");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->registry, "127.0.0.1:5000");
  EXPECT_EQ(plain->name, "ci/cache");
  EXPECT_EQ(plain->tag, std::string(k_default_cache_tag));
  auto tagged = layer_cache_ref("docker://127.0.0.1:5000/ci/cache:main", "--cache-to");
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->tag, "main");
  auto pinned = layer_cache_ref("docker://127.0.0.1:5000/ci/cache@sha256:" + std::string(64, 'a'),
                                "--cache-from");
  ASSERT_TRUE(pinned.ok()) << pinned.error().message;
  EXPECT_EQ(pinned->digest, "sha256:" + std::string(64, 'a'));
  auto local = layer_cache_ref("oci:cache", "--cache-to");
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.error().message.rfind("usage: --cache-to 'oci:cache': ", 0), 0u)
      << local.error().message;
  EXPECT_FALSE(layer_cache_ref("docker://", "--cache-from").ok());
}

TEST(RemoteLayerCache, AFetchedBlobIsAdoptedIntoTheLayerCache) {
  auto dir = util::TempDir::create("distill-remote-cache-");
  ASSERT_TRUE(dir.ok());
  LayerCache local(dir->path() / "cache");
  std::string content(5000, 'z');
  CacheEntry e = entry("key", content);
  e.blob.file = dir->path() / "pulled";
  ASSERT_TRUE(util::write_file_atomic(e.blob.file, content).ok());
  // A damaged file already where the blob belongs is replaced, not trusted.
  fs::path target = local.blob_dir() / "sha256" / e.blob.descriptor.digest.hex();
  fs::create_directories(target.parent_path());
  ASSERT_TRUE(util::write_file_atomic(target, "damaged").ok());
  auto adopted = local.adopt("key", e.blob);
  ASSERT_TRUE(adopted.ok()) << adopted.error().message;
  EXPECT_EQ(adopted->file, target);
  auto found = local.lookup("key");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->descriptor.digest, e.blob.descriptor.digest);
  EXPECT_EQ(found->diff_id, e.blob.diff_id);
  EXPECT_EQ(found->uncompressed_size, 10240u);
  EXPECT_EQ(*util::read_file(found->file), content);
  // Adopting again (another build took the same entry) changes nothing.
  ASSERT_TRUE(local.adopt("key", e.blob).ok());
  EXPECT_EQ(*util::read_file(target), content);
}

// --cache-to against an in-memory registry: this build's entries (blob files
// written under a temporary directory), the tag, and what the tag lists.
class CacheExport : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-cache-export-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    oci::RegistryOptions options;
    options.plain_http = true;
    m_client = std::make_unique<oci::RegistryClient>(m_registry, options);
    m_ref = *layer_cache_ref("docker://fake.test/team/cache", "--cache-to");
  }

  CacheEntry ours(const std::string& key) {
    CacheEntry e = entry(key, "layer " + key);
    e.blob.file = m_dir->path() / key;
    EXPECT_TRUE(util::write_file_atomic(e.blob.file, "layer " + key).ok());
    return e;
  }

  std::string tag_key() const { return "team/cache@" + std::string(k_default_cache_tag); }

  std::vector<std::string> listed() const {
    std::vector<std::string> keys;
    auto parsed = parse_layer_cache(m_registry.manifests.at(tag_key()), "tag");
    EXPECT_TRUE(parsed.ok());
    for (const auto& e : parsed->entries) {
      keys.push_back(e.key);
    }
    return keys;
  }

  test::FakeRegistry m_registry;
  std::unique_ptr<util::TempDir> m_dir;
  std::unique_ptr<oci::RegistryClient> m_client;
  oci::ImageRef m_ref;
  util::Progress m_progress{util::Progress::Mode::None};
};

TEST_F(CacheExport, MergesWithTheTagThisBuildFirstAndWritesNothingWhenUpToDate) {
  m_registry.manifests[tag_key()] = layer_cache_manifest({entry("old", "an older layer")});
  std::vector<CacheEntry> mine = {ours("a"), ours("b")};
  auto exported = export_layer_cache(*m_client, m_ref, mine, m_progress);
  ASSERT_TRUE(exported.ok()) << exported.error().message;
  EXPECT_EQ(listed(), (std::vector<std::string>{"a", "b", "old"}));
  EXPECT_EQ(m_registry.blobs.at(mine[0].blob.descriptor.digest.str()), "layer a");
  EXPECT_EQ(m_registry.manifest_puts, 1);
  ASSERT_TRUE(export_layer_cache(*m_client, m_ref, mine, m_progress).ok());
  EXPECT_EQ(m_registry.manifest_puts, 1) << "up to date: no write";
}

TEST_F(CacheExport, EntriesAnotherBuildOverwroteAreMergedAgain) {
  m_registry.manifests[tag_key()] = layer_cache_manifest({entry("old", "an older layer")});
  // Another build read the tag before this one wrote it, and writes it just
  // after: its merge lacks this build's entries.
  int overwrites = 0;
  m_registry.after_manifest_put = [&](test::FakeRegistry& registry, const std::string& key) {
    if (key == tag_key() && overwrites++ == 0) {
      registry.manifests[key] =
          layer_cache_manifest({entry("theirs", "their layer"), entry("old", "an older layer")});
    }
  };
  auto exported = export_layer_cache(*m_client, m_ref, {ours("a")}, m_progress);
  ASSERT_TRUE(exported.ok()) << exported.error().message;
  EXPECT_EQ(listed(), (std::vector<std::string>{"a", "theirs", "old"}));
  EXPECT_EQ(m_registry.manifest_puts, 2);
}

TEST_F(CacheExport, ATagOverwrittenAtEveryWriteIsAnErrorNamingIt) {
  m_registry.after_manifest_put = [&](test::FakeRegistry& registry, const std::string& key) {
    registry.manifests[key] = layer_cache_manifest({entry("theirs", "their layer")});
  };
  auto exported = export_layer_cache(*m_client, m_ref, {ours("a"), ours("b")}, m_progress);
  ASSERT_FALSE(exported.ok());
  EXPECT_NE(exported.error().message.find("fake.test/team/cache"), std::string::npos)
      << exported.error().message;
  EXPECT_NE(exported.error().message.find("2 of 2 entries of this build were replaced"),
            std::string::npos)
      << exported.error().message;
  EXPECT_EQ(m_registry.manifest_puts, 5);
}

TEST_F(CacheExport, MoreEntriesThanAManifestKeepsAreNotTakenForLostOnes) {
  std::vector<CacheEntry> mine;
  for (size_t i = 0; i <= k_max_entries; ++i) {
    mine.push_back(ours("k" + std::to_string(i)));
  }
  auto exported = export_layer_cache(*m_client, m_ref, mine, m_progress);
  ASSERT_TRUE(exported.ok()) << exported.error().message;
  auto keys = listed();
  ASSERT_EQ(keys.size(), k_max_entries);
  EXPECT_EQ(keys.front(), "k0");
  EXPECT_EQ(keys.back(), "k" + std::to_string(k_max_entries - 1));
  EXPECT_EQ(m_registry.manifest_puts, 1);
}

TEST_F(CacheExport, WhatIsNotACacheIsNeverReplaced) {
  m_registry.manifests[tag_key()] =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":)"
      R"("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},)"
      R"("layers":[]})";
  auto exported = export_layer_cache(*m_client, m_ref, {ours("a")}, m_progress);
  ASSERT_FALSE(exported.ok());
  EXPECT_NE(exported.error().message.find("--cache-to will not replace it"), std::string::npos)
      << exported.error().message;
  EXPECT_EQ(m_registry.manifest_puts, 0);
  EXPECT_TRUE(m_registry.blobs.empty()) << "nothing pushed";
}

}  // namespace
}  // namespace distill::image
