// `distill inspect`: what an image is made of, read from the image alone —
// its platforms, the selected manifest's layers (compressed digest and size,
// uncompressed size, what created them from the config history and what they
// hold: packages, generated files, application files, archives), its runtime
// config, the Debian packages of its dpkg status entries, where the size goes
// (the largest files, the bytes of each package's files: the question people
// open `dive` for) and, on request, the merged file list.
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
  // What the layer holds: "packages", "generated", "application", "archive"
  // (upstream tarballs) or "files" (a layer distill did not make), from its
  // status entries and created_by; a top layer may hold several.
  std::vector<std::string> holds;
  std::vector<std::string> packages;  // "name version" of the status entries it carries
  // What the layer still provides in the merged image (entries a later layer
  // replaced or deleted are not counted): entries other than directories, and
  // the bytes of its regular files (hard links count their target's size).
  uint64_t files = 0;
  uint64_t content_size = 0;
};

struct LargeFile {
  std::string path;
  uint64_t size = 0;
  size_t layer = 0;
  std::string package;  // owner's name, "" if none
};

// The files of one package in the merged image, or of one kind of unpackaged
// files ("generated", "application", ... as LayerSummary::holds spells them).
struct SizeShare {
  std::string name;     // package name, or the kind for unpackaged files
  std::string version;  // "" for unpackaged files
  uint64_t size = 0;    // bytes of its regular files
  uint64_t files = 0;   // entries other than directories
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
  // Only with InspectOptions::usage:
  std::vector<LargeFile> largest_files;  // largest first
  std::vector<SizeShare> package_sizes;  // largest first
  std::vector<SizeShare> unpackaged;     // files no package owns, by kind, largest first
};

struct InspectOptions {
  bool files = false;
  bool layer_sizes = true;  // each layer's uncompressed size (the view's, else decompressed)
  bool usage = true;        // what layers hold, largest files, size per package
  size_t largest = 10;      // how many of the largest files to list
};

// The files inspect_image reads, by their name in a layer (the packages'
// records and file lists): an ImageView loaded with this keeps them.
bool inspect_reads(std::string_view tar_path);

Result<InspectReport> inspect_image(const OpenedImage& image, const ImageView& view,
                                    const InspectOptions& options);

nlohmann::json to_json(const InspectReport& report);
nlohmann::json to_json(const PackageRecord& package);
nlohmann::json config_to_json(const oci::ImageConfig& config);
// Human-readable report (sections Platforms, Config, Layers, Packages, Files).
std::string to_text(const InspectReport& report);

}  // namespace distill::check
