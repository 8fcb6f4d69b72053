// Writing an image to every requested destination: oci: layouts, oci-archive:
// and docker-archive: files, and docker:// registries (push). Shared by
// `build` (a freshly assembled image) and `copy` (an image read elsewhere,
// whose manifest bytes, and so digests, are kept).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image/output_staging.hpp"
#include "oci/image.hpp"
#include "oci/image_reader.hpp"
#include "oci/registry_client.hpp"
#include "oci/registry_connection.hpp"
#include "util/progress.hpp"
#include "util/result.hpp"

namespace distill::image {

// Registry settings and connections live in src/oci (registry_connection.hpp):
// the image layer makes no HTTP client of its own.
using RegistrySettings = oci::RegistrySettings;
using RegistryConnection = oci::RegistryConnection;
using oci::connect_registry;

struct OutputDefaults {
  std::string name;  // for docker-archive RepoTags and the default ref
  std::string tag;
};

// Writes `image` to each reference in order; returns the references written.
// A failure stops at the failing output (earlier outputs stay written, each
// complete: every writer publishes by rename). Blobs staged for an oci: output
// (`staging`, may be null; image/output_staging.hpp) are moved in.
Result<std::vector<std::string>> write_outputs(const oci::Image& image,
                                               const std::vector<std::string>& outputs,
                                               const OutputDefaults& defaults,
                                               const RegistrySettings& registry,
                                               util::Progress& progress,
                                               const OutputStaging* staging = nullptr);

// A loaded image as an oci::Image for the writers, keeping every manifest's
// bytes. An image without an index (one manifest) keeps that manifest as its
// top-level document (Image::index_json holds the manifest then).
Result<oci::Image> image_from_loaded(const oci::LoadedImage& loaded);

}  // namespace distill::image
