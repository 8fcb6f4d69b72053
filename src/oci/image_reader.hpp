// Loads an image from oci:, oci-archive: or docker-archive: references, verifying
// every blob's sha256 and size against its descriptor.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci/descriptor.hpp"
#include "oci/image_config.hpp"
#include "oci/image_ref.hpp"
#include "oci/manifest.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct LoadedManifest {
  Platform platform;
  Manifest manifest;
  Descriptor descriptor;  // of the manifest itself
  std::string manifest_json;
  ImageConfig config;
  std::string config_json;
  std::vector<std::filesystem::path> layer_files;  // compressed blobs, in order
  // Not an image (an SBOM, a signature: its config is not an image config):
  // copied with the rest, never run, inspected or tested.
  bool artifact = false;
};

struct LoadedImage {
  std::vector<LoadedManifest> manifests;
  std::optional<Index> index;  // the image index, when the image has one
  std::optional<Descriptor> index_descriptor;
  std::string index_json;  // the index's exact bytes, when there is one
  // The source's own NAME:TAG when it has one (docker-archive: the RepoTags
  // entry read; docker://: HOST/REPO:TAG); empty otherwise.
  std::string repo_tag;
  // What the image's files need while they are read: an archive's extracted
  // temporary directory, a pulled image's cache held open.
  std::shared_ptr<void> keepalive;
};

// How the layer blobs of a layout are checked on opening: Digest hashes every
// one; Size only compares sizes, for a consumer that hashes the bytes as it
// reads them anyway (a push: the HTTP client checks each upload's digest as it
// sends it, so the upload of the largest layer need not wait for its hashing).
enum class LayerCheck { Digest, Size };

// Parses `loaded.config_json`, the config its manifest names, or marks the
// manifest an artifact (its config is not an image's). An image's layers
// must match its config's diff_ids in number and be of a layer media type.
Status read_config(LoadedManifest& loaded, const std::string& origin);

// NotFound if the ref/tag is absent, Corrupt naming the blob on a digest or size
// mismatch, Unsupported for registry refs (open_image in source.hpp reads all).
Result<LoadedImage> load_image(const ImageRef& ref, LayerCheck check = LayerCheck::Digest);

}  // namespace distill::oci
