// Loading an image reference for the commands that read images (run, copy,
// and the checks), and choosing the manifest of one platform.
#pragma once

#include <string>

#include "oci/image_reader.hpp"
#include "util/result.hpp"

namespace distill::cli {

// The host's architecture as Debian names it (amd64, arm64, ...).
std::string host_debian_arch();

// Loads REF (oci:, oci-archive:, docker-archive:, docker://).
Result<oci::LoadedImage> load_reference(const std::string& text);

// The manifest for `debian_arch` (empty: the host's; an image with a single
// manifest matches any request only when no arch was asked for).
Result<const oci::LoadedManifest*> select_platform(const oci::LoadedImage& image,
                                                   const std::string& reference,
                                                   const std::string& debian_arch);

}  // namespace distill::cli
