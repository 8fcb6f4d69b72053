// The referrers that travel with a copied image (`distill copy --referrers`, as
// `oras cp -r` and `regctl image copy --referrers` carry them): the artifact
// manifests whose subject is one of the image's manifests, e.g. the SBOMs
// `build --sbom` attached, read where the image is and written where it goes
// byte for byte, so their digests stay.
//
// Carried is every artifact that is an OCI image manifest with its subject:
// its config (the empty one distill, `oras attach` and syft write, or its own)
// and all its layers, held in memory until written, so at most 256 MiB of
// them. Any other referrer (an index, a larger artifact) is named in
// `skipped`, not copied. Archives
// (oci-archive:, docker-archive:) hold no referrers: as a source they give
// none, as a destination they are refused (Unsupported).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "oci/descriptor.hpp"
#include "oci/image_reader.hpp"
#include "oci/image_ref.hpp"
#include "oci/referrer.hpp"
#include "oci/registry_connection.hpp"
#include "oci/source.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct FoundReferrers {
  std::vector<Referrer> referrers;
  std::vector<std::string> skipped;  // "sha256:<hex> (<artifactType>): <why>"
};

// The referrers of `subjects` (an image's manifests, and its index) at
// `source`: listed in an oci: layout's index.json, or by a registry's referrers
// API (else its fallback tag); then the referrers of those (a signature of an
// SBOM), each after its subject. Each artifact's bytes are checked against
// their digests.
Result<FoundReferrers> find_referrers(const ImageRef& source,
                                      const std::vector<Descriptor>& subjects,
                                      const SourceOptions& options);

// A referrer from the artifact manifest `listed` describes (its bytes `json`,
// referring to `subject`), its config (unless the empty one) and layers read by
// `read_blob` (which checks the digest); nullopt, with `why`, when it is not
// carried.
using BlobReader = std::function<Result<std::string>(const Descriptor& blob)>;
Result<std::optional<Referrer>> referrer_from_manifest(const Descriptor& listed,
                                                       const std::string& json,
                                                       const Descriptor& subject,
                                                       const BlobReader& read_blob,
                                                       std::string& why);

// Whether the destination `ref` can hold referrers (oci: or docker://).
Status check_referrers_destination(const ImageRef& ref);

// What of `image` referrers may refer to once it is copied: its index, when it
// has one (copying one platform drops it), and its manifests.
std::vector<Descriptor> referrer_subjects(const LoadedImage& image);

// Attaches `referrers`, in order, at `destination` (an oci: layout's
// index.json, or a registry reached with `registry`), where their subjects
// already are.
Status put_referrers(const ImageRef& destination, const std::vector<Referrer>& referrers,
                     const RegistrySettings& registry);

}  // namespace distill::oci
