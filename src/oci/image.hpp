// The in-memory description of a built image that the writers consume: per
// platform a config and compressed layer blobs on disk; finalize() turns it into
// config/manifest/index JSON and their descriptors.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "crypto/sha256.hpp"
#include "oci/descriptor.hpp"
#include "oci/image_config.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct LayerBlob {
  Descriptor descriptor;       // media type, compressed digest and size
  crypto::Digest diff_id;      // sha256 of the uncompressed tar
  std::filesystem::path file;  // where the compressed blob is
  uint64_t uncompressed_size = 0;
  // This process wrote `file` and hashed its bytes on the way (a layer just
  // made): copies of it need not hash it again.
  bool hashed = false;
};

struct ImageManifest {
  Platform platform;
  ImageConfig config;
  std::vector<LayerBlob> layers;
  // This manifest's own annotations, on top of Image::manifest_annotations.
  std::map<std::string, std::string> annotations;
  // Computed by finalize():
  std::string config_json;
  Descriptor config_descriptor;
  std::string manifest_json;
  Descriptor manifest_descriptor;  // carries `platform`
};

struct Image {
  std::vector<ImageManifest> manifests;
  // The top-level document writers point a ref or tag at: the image index; for
  // an image copied from a source without one, its single manifest.
  std::string index_json;
  Descriptor index_descriptor;
  std::map<std::string, std::string> index_annotations;
  // Annotations put on every manifest (e.g. org.opencontainers.image.created).
  std::map<std::string, std::string> manifest_annotations;
};

// Fills every computed field: config.diff_ids from the layers (and architecture/
// os/variant from the platform when empty), config JSON + descriptor, manifest
// JSON + descriptor (with platform), then the index over all manifests.
// InvalidInput if there are no manifests.
Status finalize(Image& image);

// The manifest for `platform`: exactly one match required; with an empty
// architecture, the image must have exactly one manifest.
Result<const ImageManifest*> select_manifest(const Image& image, const Platform& platform);

}  // namespace distill::oci
