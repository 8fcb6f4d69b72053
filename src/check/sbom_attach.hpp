// `distill build --sbom`: the SBOM of every architecture of a freshly built
// image (make_sbom, as `distill sbom` writes it), attached to each output as an
// OCI 1.1 referrer (oci/referrer.hpp):
//   oci:DIR           the artifact manifest and its blobs go into the layout and
//                     are listed in index.json (no ref name), as `oras attach
//                     --oci-layout` does; index.json is rewritten atomically, last.
//   docker://REF      pushed by digest with `subject`; registries without the
//                     referrers API get the sha256-<hex> fallback tag index.
//   oci-archive:FILE, docker-archive:FILE
//                     a tar cannot be amended in place: the SBOM is written next
//                     to it as FILE.<arch>.spdx.json (or .cdx.json).
// Each output gets the documents named after it (sbom_document_name: "cc:latest"
// for oci:/any/dir/cc:latest), so outputs of different names carry different
// bytes; they also record the .deb sha256 of each package, which the build knows.
// The same inputs and output names give the same SBOM and artifact manifest digests.
#pragma once

#include <string>
#include <vector>

#include "check/sbom.hpp"
#include "check/sbom_cache.hpp"
#include "image/build.hpp"
#include "oci/descriptor.hpp"
#include "util/progress.hpp"
#include "util/result.hpp"

namespace distill::check {

struct AttachedSbom {
  std::string arch;        // Debian architecture of the image manifest
  std::string media_type;  // application/spdx+json or application/vnd.cyclonedx+json
  crypto::Digest digest;   // of the SBOM document
  uint64_t size = 0;
  crypto::Digest subject;            // the image manifest it describes
  oci::Descriptor manifest;          // the artifact manifest (with artifactType)
  std::vector<std::string> written;  // the outputs it was attached to / files written
};

// Makes the SBOM of each manifest of `result.image` for every output in
// `result.outputs_written` and attaches it there; the result lists one entry per
// output and manifest, in that order. Stops at the first failure with an error
// naming the output; what was already written stays complete. Documents
// found in `cache` (when given) are not made again, and a manifest whose
// documents are all there has no layer read; those made are kept there.
Result<std::vector<AttachedSbom>> attach_build_sboms(const image::BuildResult& result,
                                                     SbomFormat format,
                                                     const image::RegistrySettings& registry,
                                                     util::Progress& progress,
                                                     const SbomCache* cache = nullptr);

// The file name suffix of a format: ".spdx.json" or ".cdx.json".
std::string sbom_file_extension(SbomFormat format);

}  // namespace distill::check
