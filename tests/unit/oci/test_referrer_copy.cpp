// Referrers carried by a copy: an artifact of the carried form (the empty
// config, one layer) comes back as the Referrer that made it, its manifest's
// bytes and digest kept; any other referrer is named with a reason; a manifest
// whose bytes are not the listed digest is Corrupt; archives take none.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "../support/referrer_data.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/referrer_copy.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {
namespace {

const Descriptor k_subject =
    describe(R"({"schemaVersion":2,"layers":[]})", std::string(k_media_oci_manifest));

Referrer sbom_referrer() {
  Artifact artifact;
  artifact.artifact_type = "application/spdx+json";
  artifact.data = R"({"spdxVersion":"SPDX-2.3"})";
  artifact.title = "sbom.spdx.json";
  return make_referrer(k_subject, artifact);
}

// A reader of the blobs `referrer` holds (and of `more`), counting its calls.
BlobReader reader_of(const Referrer& referrer, int& calls,
                     std::map<crypto::Digest, std::string> more = {}) {
  for (const auto& layer : referrer.layers) {
    more.emplace(layer.descriptor.digest, layer.data);
  }
  return [blobs = std::move(more), &calls](const Descriptor& blob) -> Result<std::string> {
    ++calls;
    auto found = blobs.find(blob.digest);
    if (found != blobs.end()) {
      return found->second;
    }
    return make_error(ErrorKind::NotFound, "no blob " + blob.digest.str());
  };
}

TEST(ReferrerCopy, TheCarriedFormComesBackByteForByte) {
  const Referrer made = sbom_referrer();
  int calls = 0;
  std::string why;
  auto copied = referrer_from_manifest(made.manifest, made.manifest_json, k_subject,
                                       reader_of(made, calls), why);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  ASSERT_TRUE(copied->has_value()) << why;
  const Referrer& back = **copied;
  EXPECT_EQ(back.manifest_json, made.manifest_json);
  EXPECT_EQ(back.manifest, made.manifest);
  EXPECT_EQ(back.subject.digest, k_subject.digest);
  EXPECT_EQ(back.config.descriptor, made.config.descriptor);
  EXPECT_EQ(back.config.data, "{}");
  ASSERT_EQ(back.layers.size(), 1U);
  EXPECT_EQ(back.layers[0].descriptor, made.layers[0].descriptor);
  EXPECT_EQ(back.layers[0].data, made.layers[0].data);
  EXPECT_EQ(calls, 1);  // the empty config is known, not read
}

// `edit` applied to the artifact manifest's JSON, described anew.
std::pair<Descriptor, std::string> edited(const Referrer& made,
                                          const std::function<void(nlohmann::json&)>& edit) {
  auto json = nlohmann::json::parse(made.manifest_json);
  edit(json);
  std::string text = json.dump();
  Descriptor listed = describe(text, std::string(k_media_oci_manifest));
  listed.artifact_type = made.manifest.artifact_type;
  return {listed, text};
}

// An artifact of another form (a config of its own, several layers or none,
// as `oras push`/`oras attach` of several files, or a tool's own config
// write) is carried whole: every blob read and checked, the manifest's bytes
// kept.
TEST(ReferrerCopy, AnArtifactWithItsOwnConfigAndSeveralLayersIsCarriedWhole) {
  const Referrer made = sbom_referrer();
  const std::string config = R"({"tool":"example"})";
  const std::string second = "a second file";
  const Descriptor config_blob = describe(config, "application/vnd.example.config+json");
  const Descriptor second_blob = describe(second, "application/vnd.example.file");
  auto [listed, text] = edited(made, [&](nlohmann::json& m) {
    m["config"] = to_json(config_blob);
    m["layers"].push_back(to_json(second_blob));
  });
  int calls = 0;
  std::string why;
  auto copied = referrer_from_manifest(
      listed, text, k_subject,
      reader_of(made, calls, {{config_blob.digest, config}, {second_blob.digest, second}}), why);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  ASSERT_TRUE(copied->has_value()) << why;
  const Referrer& back = **copied;
  EXPECT_EQ(back.manifest_json, text);
  EXPECT_EQ(back.config.descriptor, config_blob);
  EXPECT_EQ(back.config.data, config);
  ASSERT_EQ(back.layers.size(), 2U);
  EXPECT_EQ(back.layers[0].data, made.layers[0].data);
  EXPECT_EQ(back.layers[1].descriptor, second_blob);
  EXPECT_EQ(back.layers[1].data, second);
  EXPECT_EQ(calls, 3);

  // A file listed twice, and the config's bytes as a file too: read once each.
  auto [twice, twice_text] = edited(made, [&](nlohmann::json& m) {
    m["config"] = to_json(config_blob);
    m["layers"].push_back(to_json(second_blob));
    m["layers"].push_back(to_json(second_blob));
    m["layers"].push_back(to_json(config_blob));
  });
  calls = 0;
  auto again = referrer_from_manifest(
      twice, twice_text, k_subject,
      reader_of(made, calls, {{config_blob.digest, config}, {second_blob.digest, second}}), why);
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_TRUE(again->has_value()) << why;
  ASSERT_EQ((*again)->layers.size(), 4U);
  EXPECT_EQ((*again)->layers[1].data, second);
  EXPECT_EQ((*again)->layers[2].data, second);
  EXPECT_EQ((*again)->layers[3].descriptor, config_blob);
  EXPECT_EQ((*again)->layers[3].data, config);
  EXPECT_EQ(calls, 3);

  // No layers at all: the manifest alone.
  auto [bare, bare_text] =
      edited(made, [](nlohmann::json& m) { m["layers"] = nlohmann::json::array(); });
  auto none = referrer_from_manifest(bare, bare_text, k_subject, reader_of(made, calls), why);
  ASSERT_TRUE(none.ok()) << none.error().message;
  ASSERT_TRUE(none->has_value()) << why;
  EXPECT_TRUE((*none)->layers.empty());
}

TEST(ReferrerCopy, OtherReferrersAreNamedNotCopied) {
  const Referrer made = sbom_referrer();
  int calls = 0;
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases{
      {[](nlohmann::json& m) {
         m["layers"].push_back({{"mediaType", "application/vnd.example.disk"},
                                {"digest", crypto::sha256("big").str()},
                                {"size", uint64_t{256} << 20}});
       },
       "its blobs are more than the 256 MiB a copy carries"},
      {[](nlohmann::json& m) {
         // sizes whose sum wraps around 2^64 are no way past the limit
         m["layers"].push_back({{"mediaType", "application/vnd.example.disk"},
                                {"digest", crypto::sha256("huge").str()},
                                {"size", UINT64_MAX - 10}});
       },
       "its blobs are more than the 256 MiB a copy carries"},
      {[](nlohmann::json& m) { m["subject"]["digest"] = crypto::sha256("other").str(); },
       "its subject is not " + k_subject.digest.str()},
      {[](nlohmann::json& m) { m.erase("subject"); },
       "its subject is not " + k_subject.digest.str()},
  };
  for (const auto& [edit, reason] : cases) {
    auto [listed, text] = edited(made, edit);
    std::string why;
    auto copied = referrer_from_manifest(listed, text, k_subject, reader_of(made, calls), why);
    ASSERT_TRUE(copied.ok()) << reason << ": " << copied.error().message;
    EXPECT_FALSE(copied->has_value()) << reason;
    EXPECT_EQ(why, reason);
  }
  Descriptor index = made.manifest;
  index.media_type = std::string(k_media_oci_index);
  std::string why;
  auto copied =
      referrer_from_manifest(index, made.manifest_json, k_subject, reader_of(made, calls), why);
  ASSERT_TRUE(copied.ok());
  EXPECT_FALSE(copied->has_value());
  EXPECT_EQ(why, "a " + std::string(k_media_oci_index) + ", not an OCI image manifest");
  EXPECT_EQ(calls, 0);  // nothing skipped was read
}

TEST(ReferrerCopy, BytesThatAreNotTheListedDigestAreCorrupt) {
  const Referrer made = sbom_referrer();
  int calls = 0;
  std::string why;
  std::string other = made.manifest_json + " ";
  auto copied =
      referrer_from_manifest(made.manifest, other, k_subject, reader_of(made, calls), why);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(calls, 0);  // found before any blob is read
  // A blob that cannot be read is the copy's error.
  int none = 0;
  BlobReader fails = [&none](const Descriptor& blob) -> Result<std::string> {
    ++none;
    return make_error(ErrorKind::NotFound, "no blob " + blob.digest.str());
  };
  auto unread = referrer_from_manifest(made.manifest, made.manifest_json, k_subject, fails, why);
  ASSERT_FALSE(unread.ok());
  EXPECT_EQ(unread.error().kind, ErrorKind::NotFound);
}

// A layout holding `manifest_json` as its one tagged manifest.
void make_layout(const std::filesystem::path& layout, const std::string& manifest_json) {
  const Descriptor subject = describe(manifest_json, std::string(k_media_oci_manifest));
  std::filesystem::create_directories(layout / "blobs" / "sha256");
  ASSERT_TRUE(
      util::write_file_atomic(layout / "blobs" / "sha256" / subject.digest.hex(), manifest_json)
          .ok());
  Index index;
  index.manifests.push_back(subject);
  ASSERT_TRUE(util::write_file_atomic(layout / "index.json", index.to_json()).ok());
}

// Two layouts holding k_subject's image: one to copy from, one to copy to.
struct TwoLayouts {
  TwoLayouts() {
    make_layout(from, R"({"schemaVersion":2,"layers":[]})");
    make_layout(to, R"({"schemaVersion":2,"layers":[]})");
  }
  util::TempDir dir = *util::TempDir::create("distill-referrer-copy-");
  std::filesystem::path from = dir.path() / "from";
  std::filesystem::path to = dir.path() / "to";
};

Artifact artifact_of(const std::string& type, const std::string& data) {
  Artifact artifact;
  artifact.artifact_type = type;
  artifact.data = data;
  return artifact;
}

// An SBOM of the image, a signature of that SBOM, and an unrelated artifact:
// the first two are found, each after its subject, and attach to another
// layout holding the image in that order; the third is not theirs.
TEST(ReferrerCopy, ReferrersOfReferrersComeAfterTheirSubject) {
  TwoLayouts layouts;
  const std::filesystem::path& from = layouts.from;
  const std::filesystem::path& to = layouts.to;
  const Referrer sbom = make_referrer(k_subject, artifact_of("application/spdx+json", "sbom"));
  const Referrer signature =
      make_referrer(sbom.manifest, artifact_of("application/vnd.example.signature", "signed sbom"));
  const Referrer other = make_referrer(describe("another", std::string(k_media_oci_manifest)),
                                       artifact_of("application/spdx+json", "other"));
  // "another" is a manifest of the layout too, untagged, with a referrer of its own.
  ASSERT_TRUE(
      util::write_file_atomic(from / "blobs" / "sha256" / other.subject.digest.hex(), "another")
          .ok());
  ASSERT_TRUE(add_referrers_to_layout(from, {sbom, signature, other}).ok());

  auto ref = ImageRef::parse("oci:" + from.string());
  ASSERT_TRUE(ref.ok());
  auto found = find_referrers(*ref, {k_subject}, {});
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->referrers.size(), 2U);
  EXPECT_TRUE(found->skipped.empty());
  EXPECT_EQ(found->referrers[0].manifest_json, sbom.manifest_json);
  EXPECT_EQ(found->referrers[1].manifest_json, signature.manifest_json);
  EXPECT_EQ(found->referrers[1].layers.at(0).data, "signed sbom");
  auto to_ref = ImageRef::parse("oci:" + to.string());
  ASSERT_TRUE(to_ref.ok());
  Status put = put_referrers(*to_ref, found->referrers, {});
  ASSERT_TRUE(put.ok()) << put.error().message;
  auto copied = layout_referrers(to, sbom.manifest.digest);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  ASSERT_EQ(copied->size(), 1U);
  EXPECT_EQ((*copied)[0].digest, signature.manifest.digest);
}

// An artifact of several files with a config of its own, written into a
// layout by hand (as `oras push` would): found, and copied into another
// layout with every blob.
TEST(ReferrerCopy, ALayoutsArtifactOfSeveralFilesIsCopiedWhole) {
  TwoLayouts layouts;
  const std::filesystem::path& from = layouts.from;
  const std::filesystem::path& to = layouts.to;
  const Referrer files = test::several_files_referrer(k_subject);
  ASSERT_TRUE(add_referrers_to_layout(from, {files}).ok());

  auto found = find_referrers(*ImageRef::parse("oci:" + from.string()), {k_subject}, {});
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->referrers.size(), 1U);
  EXPECT_TRUE(found->skipped.empty());
  ASSERT_TRUE(put_referrers(*ImageRef::parse("oci:" + to.string()), found->referrers, {}).ok());
  for (const ReferrerBlob* blob : {&files.config, &files.layers[0], &files.layers[1]}) {
    EXPECT_EQ(*util::read_file(to / "blobs" / "sha256" / blob->descriptor.digest.hex()),
              blob->data);
  }
  auto copied = layout_referrers(to, k_subject.digest);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  ASSERT_EQ(copied->size(), 1U);
  EXPECT_EQ((*copied)[0].digest, files.manifest.digest);
  EXPECT_EQ(*util::read_file(to / "blobs" / "sha256" / files.manifest.digest.hex()),
            files.manifest_json);
}

// The index is a subject while it is copied; one platform alone drops it.
TEST(ReferrerCopy, TheSubjectsAreTheIndexAndTheManifests) {
  LoadedImage image;
  image.manifests.resize(2);
  image.manifests[0].descriptor = k_subject;
  image.manifests[1].descriptor = describe("arm64", std::string(k_media_oci_manifest));
  const Descriptor index = describe("index", std::string(k_media_oci_index));
  image.index_descriptor = index;
  EXPECT_EQ(referrer_subjects(image),
            (std::vector<Descriptor>{index, k_subject, image.manifests[1].descriptor}));
  image.index_descriptor.reset();
  image.manifests.pop_back();
  EXPECT_EQ(referrer_subjects(image), std::vector<Descriptor>{k_subject});
}

TEST(ReferrerCopy, OnlyLayoutsAndRegistriesHoldThem) {
  for (const char* ok : {"oci:out/app:1", "docker://127.0.0.1:5000/app:1"}) {
    auto ref = ImageRef::parse(ok);
    ASSERT_TRUE(ref.ok());
    EXPECT_TRUE(check_referrers_destination(*ref).ok()) << ok;
  }
  for (const char* archive : {"oci-archive:app.tar", "docker-archive:app.tar"}) {
    auto ref = ImageRef::parse(archive);
    ASSERT_TRUE(ref.ok());
    auto refused = check_referrers_destination(*ref);
    ASSERT_FALSE(refused.ok()) << archive;
    EXPECT_EQ(refused.error().kind, ErrorKind::Unsupported);
    EXPECT_FALSE(put_referrers(*ref, {sbom_referrer()}, {}).ok()) << archive;
    // As a source an archive gives none, without reading it.
    auto found = find_referrers(*ref, {k_subject}, {});
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(found->referrers.empty() && found->skipped.empty());
  }
}

}  // namespace
}  // namespace distill::oci
