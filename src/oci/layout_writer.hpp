// Writes an Image into an OCI image layout directory (image-layout.md).
#pragma once

#include <filesystem>
#include <string>

#include "oci/blob_staging.hpp"
#include "oci/image.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace distill::oci {

// Creates `dir` if needed, writes oci-layout, places every blob (skipping those
// present), then atomically rewrites index.json so that the descriptor annotated
// org.opencontainers.image.ref.name=<ref_name> points at the image's index (other
// refs kept). On failure the previous index.json is left intact. The image must
// have been finalize()d. Blobs staged for this layout (`staging`, may be null;
// oci/blob_staging.hpp) are moved in rather than copied; a layout that did not
// exist when `staging` began is completed there and renamed into place whole
// (a failure then leaves no layout at all).
Status write_oci_layout(const std::filesystem::path& dir, const Image& image,
                        const std::string& ref_name, BlobStaging* staging = nullptr);

// An exclusive flock on the layout directory, held while the returned Fd
// lives: every read-modify-write of index.json (write_oci_layout, referrers)
// happens under it, so concurrent writers do not lose each other's entries.
Result<util::Fd> lock_layout(const std::filesystem::path& dir);

}  // namespace distill::oci
