// Turns an Image (configs + layer blobs per platform) into its config, manifest and
// index JSON documents and descriptors (OCI image-spec config.md, manifest.md,
// image-index.md).
#include "oci/image.hpp"

#include "oci/manifest.hpp"
#include "oci/media_types.hpp"

namespace distill::oci {

Status finalize(Image& image) {
  if (image.manifests.empty()) {
    return make_error(ErrorKind::InvalidInput, "image has no manifests");
  }
  Index index;
  index.annotations = image.index_annotations;
  for (auto& entry : image.manifests) {
    if (entry.platform.architecture.empty()) {
      return make_error(ErrorKind::InvalidInput, "image manifest without an architecture");
    }
    ImageConfig& config = entry.config;
    if (config.architecture.empty()) {
      config.architecture = entry.platform.architecture;
    }
    if (config.os.empty()) {
      config.os = entry.platform.os;
    }
    if (config.variant.empty()) {
      config.variant = entry.platform.variant;
    }
    config.diff_ids.clear();
    Manifest manifest;
    for (const auto& layer : entry.layers) {
      if (layer.diff_id.empty() || layer.descriptor.digest.empty()) {
        return make_error(ErrorKind::InvalidInput,
                          "layer " + layer.file.string() + " has no digest or diff_id");
      }
      config.diff_ids.push_back(layer.diff_id);
      manifest.layers.push_back(layer.descriptor);
    }
    entry.config_json = config.to_json();
    entry.config_descriptor = describe(entry.config_json, std::string(k_media_oci_config));
    manifest.config = entry.config_descriptor;
    manifest.annotations = image.manifest_annotations;
    for (const auto& [key, value] : entry.annotations) {
      manifest.annotations[key] = value;
    }
    entry.manifest_json = manifest.to_json();
    entry.manifest_descriptor = describe(entry.manifest_json, std::string(k_media_oci_manifest));
    entry.manifest_descriptor.platform = entry.platform;
    index.manifests.push_back(entry.manifest_descriptor);
  }
  image.index_json = index.to_json();
  image.index_descriptor = describe(image.index_json, std::string(k_media_oci_index));
  return {};
}

Result<const ImageManifest*> select_manifest(const Image& image, const Platform& platform) {
  if (platform.architecture.empty()) {
    if (image.manifests.size() != 1) {
      return make_error(ErrorKind::InvalidInput, "the image has " +
                                                     std::to_string(image.manifests.size()) +
                                                     " platforms; choose one architecture");
    }
    return &image.manifests.front();
  }
  const ImageManifest* found = nullptr;
  for (const auto& entry : image.manifests) {
    bool match = entry.platform.architecture == platform.architecture &&
                 entry.platform.os == platform.os &&
                 (platform.variant.empty() || entry.platform.variant == platform.variant);
    if (match) {
      if (found != nullptr) {
        return make_error(ErrorKind::InvalidInput,
                          "several manifests match platform " + platform.str());
      }
      found = &entry;
    }
  }
  if (found == nullptr) {
    return make_error(ErrorKind::NotFound, "the image has no manifest for " + platform.str());
  }
  return found;
}

}  // namespace distill::oci
