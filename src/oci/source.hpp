// The one way to open an image reference for reading, whatever its transport:
// oci: and oci-archive: layouts, docker-archive: (docker save) files, and
// docker:// registries. Every reader (copy, inspect, run, test, audit, sbom,
// and the build for `from:` images) goes through open_image, so they all
// accept the same references and the same registry options and credentials.
//
// Local images are read and every blob checked against its descriptor
// (image_reader). A registry image is pulled manifests first; then only the
// blobs of the manifests wanted (PullOptions::platform) are fetched, into the
// content-addressed cache, verified while they stream; blobs already cached
// cost no request.
#pragma once

#include <string>
#include <string_view>

#include "net/http_client.hpp"
#include "oci/image_reader.hpp"
#include "oci/image_ref.hpp"
#include "oci/registry_client.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct SourceOptions {
  RegistryOptions registry;        // credentials, --authfile, --tls-verify
  std::filesystem::path cert_dir;  // --cert-dir: CAs and client certificates
  PullOptions pull;                // platform filter, cache directory
  // For a layout or archive: Size when every layer read goes through a check
  // of its own (a push to a registry); see LayerCheck.
  LayerCheck layers = LayerCheck::Digest;
};

// The HTTP transfer options a registry connection uses for these settings.
net::TransferOptions transfer_options(const RegistryOptions& registry,
                                      const std::filesystem::path& cert_dir);

// Opens `ref`. NotFound when the image or tag is absent, Corrupt naming a blob
// that fails its digest or size, InvalidInput for a credential the registry
// refuses. LoadedImage::repo_tag is the source's NAME:TAG when it has one.
Result<LoadedImage> open_image(const ImageRef& ref, const SourceOptions& options = {});
Result<LoadedImage> open_image(std::string_view ref, const SourceOptions& options = {});

}  // namespace distill::oci
