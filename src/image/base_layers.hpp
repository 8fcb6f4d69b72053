// The layers of a `from:` image, checked against its config before a build
// puts them under its own: each must decompress to the diff_id the config
// gives it, one diff_id a layer. docker load refuses an image where one does
// not, and a build on such a base would carry the wrong diff_id into its own
// config. Neither a layout's nor a registry's blob digests say it: they cover
// the compressed bytes only.
#pragma once

#include <filesystem>
#include <string>

#include "oci/image_reader.hpp"
#include "util/result.hpp"

namespace distill::image {

// Corrupt naming `what` (the spec's `from:` line), the layer and both digests
// when a layer does not decompress to its diff_id, or the counts differ. A
// layer checked once is recorded in `records` by its blob digest (a blob is
// only ever read after its digest is verified), so a base is decompressed once
// per cache, on as many threads as there are CPUs.
Status check_base_layers(const oci::LoadedManifest& manifest, const std::filesystem::path& records,
                         const std::string& what);

}  // namespace distill::image
