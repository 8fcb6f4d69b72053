// `distill inspect`: what an image is made of, read from the image alone —
// its platforms, the selected manifest's layers (compressed digest and size,
// uncompressed size, what created them from the config history), its runtime
// config, the Debian packages of its dpkg status entries and, on request, the
// merged file list.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "check/image_view.hpp"
#include "check/packages.hpp"
#include "oci/image_reader.hpp"
#include "util/result.hpp"

namespace distill::check {

struct LayerSummary {
  std::string digest;  // compressed blob
  std::string media_type;
  uint64_t size = 0;  // compressed
  uint64_t uncompressed_size = 0;
  std::string diff_id;     // as listed in the config
  std::string created_by;  // from the config history ("" if none)
};

struct PlatformSummary {
  std::string platform;  // "linux/arm64/v8"
  std::string digest;    // the manifest's
};

struct FileSummary {
  std::string path;
  std::string mode;  // Go FileMode string, as structure tests spell it
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  std::string link_target;
};

struct InspectReport {
  std::vector<PlatformSummary> platforms;
  std::string index_digest;  // "" when the image has no index
  PlatformSummary selected;  // the manifest described below
  std::string config_digest;
  oci::ImageConfig config;
  std::vector<LayerSummary> layers;
  std::vector<PackageRecord> packages;
  std::vector<FileSummary> files;  // only with InspectOptions::files
};

struct InspectOptions {
  bool files = false;
  bool layer_sizes = true;  // decompress every layer to measure it
};

Result<InspectReport> inspect_image(const OpenedImage& image, const ImageView& view,
                                    const InspectOptions& options);

nlohmann::json to_json(const InspectReport& report);
nlohmann::json to_json(const PackageRecord& package);
nlohmann::json config_to_json(const oci::ImageConfig& config);
// Human-readable report (sections Platforms, Config, Layers, Packages, Files).
std::string to_text(const InspectReport& report);

}  // namespace distill::check
