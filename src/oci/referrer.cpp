// Artifact manifests with a subject, the referrers fallback tag, and referrers
// in an OCI layout's index.json. See referrer.hpp; image-spec v1.1 manifest.md
// (guidelines for artifact usage) and distribution-spec v1.1 spec.md
// ("Listing Referrers", "Referrers Tag Schema").
#include "oci/referrer.hpp"

#include "oci/blob_store.hpp"
#include "oci/layout_writer.hpp"
#include "oci/media_types.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::oci {

namespace {

constexpr std::string_view k_annotation_title = "org.opencontainers.image.title";

}  // namespace

Descriptor empty_config_descriptor() {
  return describe(k_empty_json, std::string(k_media_oci_empty));
}

Referrer make_referrer(const Descriptor& subject, const Artifact& artifact) {
  Referrer referrer;
  referrer.subject.media_type = subject.media_type;
  referrer.subject.digest = subject.digest;
  referrer.subject.size = subject.size;
  referrer.config = {empty_config_descriptor(), std::string(k_empty_json)};
  ReferrerBlob layer{describe(artifact.data, artifact.artifact_type), artifact.data};
  if (!artifact.title.empty()) {
    layer.descriptor.annotations[std::string(k_annotation_title)] = artifact.title;
  }
  referrer.layers.push_back(std::move(layer));

  Manifest manifest;
  manifest.artifact_type = artifact.artifact_type;
  manifest.config = referrer.config.descriptor;
  manifest.layers.push_back(referrer.layers.front().descriptor);
  manifest.subject = referrer.subject;
  manifest.annotations = artifact.annotations;
  referrer.manifest_json = manifest.to_json();
  referrer.manifest = describe(referrer.manifest_json, std::string(k_media_oci_manifest));
  referrer.manifest.artifact_type = artifact.artifact_type;
  referrer.manifest.annotations = artifact.annotations;
  return referrer;
}

std::string referrers_tag(const crypto::Digest& subject) { return "sha256-" + subject.hex(); }

bool add_referrer(Index& index, const Descriptor& entry) {
  for (const auto& existing : index.manifests) {
    if (existing.digest == entry.digest) {
      return false;
    }
  }
  index.manifests.push_back(entry);
  return true;
}

Result<std::vector<Descriptor>> layout_referrers(const std::filesystem::path& dir,
                                                 const crypto::Digest& subject,
                                                 const std::string& artifact_type) {
  std::filesystem::path index_path = dir / "index.json";
  DISTILL_TRY(std::string text, util::read_file(index_path));
  DISTILL_TRY(Index index, Index::parse(text, index_path.string()));
  DISTILL_TRY(BlobStore store, BlobStore::open(dir / "blobs"));
  std::vector<Descriptor> found;
  for (const auto& entry : index.manifests) {
    if (entry.media_type != k_media_oci_manifest || entry.artifact_type.empty() ||
        (!artifact_type.empty() && entry.artifact_type != artifact_type)) {
      continue;
    }
    std::filesystem::path blob = store.path_for(entry.digest);
    DISTILL_TRY(std::string json, util::read_file(blob));
    DISTILL_TRY(Manifest manifest, Manifest::parse(json, blob.string()));
    if (manifest.subject && manifest.subject->digest == subject) {
      found.push_back(entry);
    }
  }
  return found;
}

Status add_referrers_to_layout(const std::filesystem::path& dir,
                               const std::vector<Referrer>& referrers) {
  DISTILL_TRY(util::Fd lock, lock_layout(dir));
  std::filesystem::path index_path = dir / "index.json";
  DISTILL_TRY(std::string text, util::read_file(index_path));
  DISTILL_TRY(Index index, Index::parse(text, index_path.string()));
  DISTILL_TRY(BlobStore store, BlobStore::open(dir / "blobs"));
  bool changed = false;
  for (const auto& referrer : referrers) {
    if (!store.contains(referrer.subject.digest)) {
      return make_error(ErrorKind::InvalidInput, dir.string() + ": no manifest " +
                                                     referrer.subject.digest.str() +
                                                     " to attach an artifact to");
    }
    DISTILL_CHECK(store.put(referrer.config.data, referrer.config.descriptor.media_type));
    for (const auto& layer : referrer.layers) {
      DISTILL_CHECK(store.put(layer.data, layer.descriptor.media_type));
    }
    DISTILL_CHECK(store.put(referrer.manifest_json, referrer.manifest.media_type));
    changed = add_referrer(index, referrer.manifest) || changed;
  }
  if (!changed) {
    return {};
  }
  return util::write_file_atomic(index_path, index.to_json());
}

}  // namespace distill::oci
