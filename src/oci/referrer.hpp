// Artifacts that refer to an image manifest (OCI image-spec v1.1 manifest.md
// "artifactType" and "subject"; distribution-spec v1.1 "Listing Referrers" and
// the referrers tag schema), e.g. an SBOM attached to an image.
//
// The artifact manifest is an image manifest with `artifactType`, the empty
// config (application/vnd.oci.empty.v1+json, content `{}`), one layer holding the
// artifact's bytes (media type = the artifact type) and `subject` = the image
// manifest. Registries without the referrers API list referrers in an image
// index tagged `sha256-<subject hex>`; OCI layouts list the artifact manifest in
// index.json without a ref name (what `oras discover --oci-layout` reads).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "oci/descriptor.hpp"
#include "oci/manifest.hpp"
#include "util/result.hpp"

namespace distill::oci {

// The empty JSON blob `{}` that artifact manifests use as their config.
inline constexpr std::string_view k_empty_json = "{}";
// Its descriptor (application/vnd.oci.empty.v1+json).
Descriptor empty_config_descriptor();

struct Artifact {
  std::string artifact_type;  // also the media type of its one layer
  std::string data;           // the layer's bytes
  std::string title;          // org.opencontainers.image.title of the layer ("" = none)
  std::map<std::string, std::string> annotations;  // on the artifact manifest
};

// A blob an artifact manifest names, with its bytes.
struct ReferrerBlob {
  Descriptor descriptor;
  std::string data;
};

struct Referrer {
  Descriptor subject;  // the image manifest referred to (media type, digest, size)
  // The manifest's config: the empty one ("{}") for the artifacts distill
  // makes; a copied artifact's may be its own.
  ReferrerBlob config;
  // Its layers, in order: one for the artifacts distill makes (the artifact's
  // bytes); a copied artifact may have any number.
  std::vector<ReferrerBlob> layers;
  std::string manifest_json;
  // The manifest as a referrers index lists it: media type, digest, size,
  // artifactType and the manifest's annotations.
  Descriptor manifest;
};

// Builds the artifact manifest for `artifact` referring to `subject` (only its
// media type, digest and size are kept). Deterministic: the same inputs give the
// same bytes.
Referrer make_referrer(const Descriptor& subject, const Artifact& artifact);

// The referrers fallback tag of a subject: "sha256-<hex>".
std::string referrers_tag(const crypto::Digest& subject);

// Adds `entry` to a referrers index unless a descriptor with its digest is
// already listed. Returns whether the index changed.
bool add_referrer(Index& index, const Descriptor& entry);

// The artifact manifests listed in `index` whose subject is `subject`, read from
// the layout's blobs (for `oci:` layouts). Optionally only of `artifact_type`.
Result<std::vector<Descriptor>> layout_referrers(const std::filesystem::path& dir,
                                                 const crypto::Digest& subject,
                                                 const std::string& artifact_type = "");

// Writes each referrer's blobs (config, layer, manifest) into the OCI layout
// `dir` and lists its manifest in index.json (no ref name; one entry per
// digest, so repeating is a no-op). index.json is rewritten atomically, last,
// under the same lock as write_oci_layout; a failure leaves it as it was. The
// layout must exist (with an index.json).
Status add_referrers_to_layout(const std::filesystem::path& dir,
                               const std::vector<Referrer>& referrers);

}  // namespace distill::oci
