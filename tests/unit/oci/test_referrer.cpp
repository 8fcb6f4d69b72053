// Referrers: the artifact manifest make_referrer builds, the fallback tag index
// and the referrers API through RegistryClient::attach against an in-memory
// registry (a fake HttpClient), and referrers in an OCI layout's index.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/fake_registry.hpp"
#include "../support/referrer_data.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/referrer.hpp"
#include "oci/registry_client.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {
namespace {

namespace fs = std::filesystem;

Descriptor subject_of(const std::string& json) {
  return describe(json, std::string(k_media_oci_manifest));
}

const std::string k_image_manifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":)"
    R"("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},)"
    R"("layers":[]})";

Artifact sbom_artifact(const std::string& content) {
  Artifact artifact;
  artifact.artifact_type = "application/spdx+json";
  artifact.data = content;
  artifact.title = "sbom.spdx.json";
  artifact.annotations["org.opencontainers.image.created"] = "1970-01-01T00:00:00Z";
  return artifact;
}

TEST(Referrer, ArtifactManifestFollowsTheImageSpec) {
  Descriptor subject = subject_of(k_image_manifest);
  subject.platform = platform_for_debian_arch("amd64");
  Referrer referrer = make_referrer(subject, sbom_artifact(R"({"spdxVersion":"SPDX-2.3"})"));
  auto json = nlohmann::json::parse(referrer.manifest_json);
  EXPECT_EQ(json["schemaVersion"], 2);
  EXPECT_EQ(json["mediaType"], k_media_oci_manifest);
  EXPECT_EQ(json["artifactType"], "application/spdx+json");
  EXPECT_EQ(json["config"]["mediaType"], k_media_oci_empty);
  EXPECT_EQ(json["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ(json["config"]["size"], 2);
  ASSERT_EQ(json["layers"].size(), 1U);
  EXPECT_EQ(json["layers"][0]["mediaType"], "application/spdx+json");
  EXPECT_EQ(json["layers"][0]["digest"], crypto::sha256(referrer.layers.at(0).data).str());
  EXPECT_EQ(json["layers"][0]["annotations"]["org.opencontainers.image.title"], "sbom.spdx.json");
  // The subject is a plain descriptor: no platform.
  EXPECT_EQ(json["subject"], nlohmann::json({{"mediaType", k_media_oci_manifest},
                                             {"digest", subject.digest.str()},
                                             {"size", subject.size}}));
  EXPECT_EQ(referrer.manifest.digest, crypto::sha256(referrer.manifest_json));
  EXPECT_EQ(referrer.manifest.artifact_type, "application/spdx+json");
  EXPECT_EQ(referrer.manifest.annotations.at("org.opencontainers.image.created"),
            "1970-01-01T00:00:00Z");
  // Deterministic.
  Referrer again = make_referrer(subject, sbom_artifact(R"({"spdxVersion":"SPDX-2.3"})"));
  EXPECT_EQ(again.manifest_json, referrer.manifest_json);
  EXPECT_EQ(referrers_tag(subject.digest), "sha256-" + subject.digest.hex());
}

TEST(Referrer, AddReferrerKeepsOneEntryPerDigest) {
  Index index;
  Referrer referrer = make_referrer(subject_of(k_image_manifest), sbom_artifact("a"));
  EXPECT_TRUE(add_referrer(index, referrer.manifest));
  EXPECT_FALSE(add_referrer(index, referrer.manifest));
  EXPECT_EQ(index.manifests.size(), 1U);
}

class RegistryReferrers : public ::testing::Test {
 protected:
  void SetUp() override {
    m_ref = *ImageRef::parse("docker://fake.test/team/app:v1");
    RegistryOptions options;
    options.plain_http = true;
    m_client = std::make_unique<RegistryClient>(m_fake, options);
    ASSERT_TRUE(
        m_client->push_manifest(m_ref, "v1", std::string(k_media_oci_manifest), k_image_manifest)
            .ok());
  }
  test::FakeRegistry m_fake;
  ImageRef m_ref;
  std::unique_ptr<RegistryClient> m_client;
};

TEST_F(RegistryReferrers, FallbackTagWithoutTheApi) {
  Descriptor subject = subject_of(k_image_manifest);
  Referrer spdx = make_referrer(subject, sbom_artifact("spdx document"));
  auto listing = m_client->attach(m_ref, spdx);
  ASSERT_TRUE(listing.ok()) << listing.error().message;
  EXPECT_EQ(*listing, RegistryClient::ReferrersListing::FallbackTag);
  EXPECT_EQ(m_fake.blobs.at(spdx.layers.at(0).descriptor.digest.str()), "spdx document");
  EXPECT_EQ(m_fake.blobs.at(spdx.config.descriptor.digest.str()), "{}");
  EXPECT_EQ(m_fake.manifests.at("team/app@" + spdx.manifest.digest.str()), spdx.manifest_json);

  std::string tag = "team/app@sha256-" + subject.digest.hex();
  ASSERT_EQ(m_fake.manifests.count(tag), 1U);
  EXPECT_EQ(m_fake.types.at(tag), k_media_oci_index);
  auto index = Index::parse(m_fake.manifests.at(tag), "fallback");
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->manifests.size(), 1U);
  EXPECT_EQ(index->manifests[0].digest, spdx.manifest.digest);
  EXPECT_EQ(index->manifests[0].artifact_type, "application/spdx+json");

  // Attaching again changes nothing (and does not rewrite the tag).
  int puts = m_fake.manifest_puts;
  ASSERT_TRUE(m_client->attach(m_ref, spdx).ok());
  EXPECT_EQ(m_fake.manifest_puts, puts + 1);  // only the artifact manifest itself
  // A second artifact is added next to the first.
  Artifact cdx = sbom_artifact("cyclonedx document");
  cdx.artifact_type = "application/vnd.cyclonedx+json";
  Referrer second = make_referrer(subject, cdx);
  ASSERT_TRUE(m_client->attach(m_ref, second).ok());
  auto listed = m_client->list_referrers(m_ref, subject.digest);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->manifests.size(), 2U);
  EXPECT_EQ(listed->manifests[0].digest, spdx.manifest.digest);
  EXPECT_EQ(listed->manifests[1].artifact_type, "application/vnd.cyclonedx+json");

  // A subject without referrers lists none.
  auto none = m_client->list_referrers(m_ref, crypto::sha256("other"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->manifests.empty());
}

// An artifact copied with a config of its own and two layers: every blob goes
// up before its manifest.
TEST_F(RegistryReferrers, EveryBlobOfACopiedArtifactGoesUp) {
  Descriptor subject = subject_of(k_image_manifest);
  const Referrer files = test::several_files_referrer(subject);
  ASSERT_TRUE(m_client->attach(m_ref, files).ok());
  EXPECT_EQ(m_fake.blobs.at(files.config.descriptor.digest.str()), R"({"tool":1})");
  EXPECT_EQ(m_fake.blobs.at(files.layers[0].descriptor.digest.str()), "first file");
  EXPECT_EQ(m_fake.blobs.at(files.layers[1].descriptor.digest.str()), "second file");
  EXPECT_EQ(m_fake.manifests.at("team/app@" + files.manifest.digest.str()), files.manifest_json);
}

TEST_F(RegistryReferrers, FallbackTagThatIsNotAnIndexIsAnError) {
  Descriptor subject = subject_of(k_image_manifest);
  ASSERT_TRUE(m_client
                  ->push_manifest(m_ref, referrers_tag(subject.digest),
                                  std::string(k_media_oci_manifest), k_image_manifest)
                  .ok());
  auto listing = m_client->attach(m_ref, make_referrer(subject, sbom_artifact("x")));
  ASSERT_FALSE(listing.ok());
  EXPECT_NE(listing.error().message.find("not an image index"), std::string::npos)
      << listing.error().message;
}

TEST_F(RegistryReferrers, ReferrersApiNeedsNoTag) {
  m_fake.referrers_api = true;
  Descriptor subject = subject_of(k_image_manifest);
  Referrer spdx = make_referrer(subject, sbom_artifact("spdx document"));
  auto listing = m_client->attach(m_ref, spdx);
  ASSERT_TRUE(listing.ok()) << listing.error().message;
  EXPECT_EQ(*listing, RegistryClient::ReferrersListing::Api);
  EXPECT_EQ(m_fake.manifests.count("team/app@sha256-" + subject.digest.hex()), 0U);
  auto listed = m_client->get_referrers(m_ref, subject.digest);
  ASSERT_TRUE(listed.ok());
  ASSERT_TRUE(listed->has_value());
  ASSERT_EQ((*listed)->manifests.size(), 1U);
  EXPECT_EQ((*listed)->manifests[0].artifact_type, "application/spdx+json");

  // The OCI-Subject header alone is enough.
  m_fake.oci_subject_header = true;
  m_fake.referrers_api = false;
  auto with_header = m_client->attach(m_ref, make_referrer(subject, sbom_artifact("other")));
  ASSERT_TRUE(with_header.ok());
  EXPECT_EQ(*with_header, RegistryClient::ReferrersListing::Api);
  EXPECT_EQ(m_fake.manifests.count("team/app@sha256-" + subject.digest.hex()), 0U);
}

TEST(LayoutReferrers, AddedOnceAndFoundBySubject) {
  auto dir = util::TempDir::create("distill-referrer-test-");
  ASSERT_TRUE(dir.ok());
  fs::path layout = dir->path() / "layout";
  Descriptor subject = subject_of(k_image_manifest);
  fs::create_directories(layout / "blobs" / "sha256");
  ASSERT_TRUE(
      util::write_file_atomic(layout / "blobs" / "sha256" / subject.digest.hex(), k_image_manifest)
          .ok());
  Index index;
  Descriptor tagged = subject;
  tagged.annotations[std::string(k_annotation_ref_name)] = "v1";
  index.manifests.push_back(tagged);
  ASSERT_TRUE(util::write_file_atomic(layout / "index.json", index.to_json()).ok());

  Referrer spdx = make_referrer(subject, sbom_artifact("spdx document"));
  ASSERT_TRUE(add_referrers_to_layout(layout, {spdx}).ok());
  ASSERT_TRUE(add_referrers_to_layout(layout, {spdx}).ok());
  auto written = Index::parse(*util::read_file(layout / "index.json"), "index.json");
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(written->manifests.size(), 2U);
  EXPECT_EQ(written->manifests[1].digest, spdx.manifest.digest);
  EXPECT_EQ(written->manifests[1].artifact_type, "application/spdx+json");
  EXPECT_TRUE(written->manifests[1].annotations.count(std::string(k_annotation_ref_name)) == 0);
  EXPECT_EQ(
      *util::read_file(layout / "blobs" / "sha256" / spdx.layers.at(0).descriptor.digest.hex()),
      "spdx document");
  EXPECT_EQ(*util::read_file(layout / "blobs" / "sha256" / spdx.config.descriptor.digest.hex()),
            "{}");

  auto found = layout_referrers(layout, subject.digest);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 1U);
  EXPECT_EQ((*found)[0].digest, spdx.manifest.digest);
  EXPECT_TRUE(layout_referrers(layout, subject.digest, "application/vnd.cyclonedx+json")->empty());

  // A subject that is not in the layout: an error, index.json untouched.
  std::string before = *util::read_file(layout / "index.json");
  Referrer stray = make_referrer(subject_of("not in the layout"), sbom_artifact("x"));
  auto refused = add_referrers_to_layout(layout, {stray});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("no manifest"), std::string::npos);
  EXPECT_EQ(*util::read_file(layout / "index.json"), before);
}

}  // namespace
}  // namespace distill::oci
