// BuildRequest: what `distill build` and `distill lock` were asked for. A
// request names one or more specs (files or built-in flavors) and variants;
// every (spec, variant) pair is one image, built for each architecture.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "archive/compressor.hpp"
#include "debian/releases.hpp"
#include "image/image_settings.hpp"
#include "image/outputs.hpp"

namespace distill::image {

struct BuildRequest {
  std::vector<std::string> specs;  // spec file paths or built-in flavor names
  std::vector<Variant> variants{Variant::Latest};
  // Output references; with several images each must carry a placeholder
  // ({name}, {variant}, {debian}, {tag}) that tells the images apart. Empty:
  // oci:./out/{name}:{tag}.
  std::vector<std::string> outputs;
  std::string tag;                  // "" = "latest" for the latest variant, else the variant
  std::string name;                 // overrides the spec's name when set
  std::vector<std::string> archs;   // overrides the spec's archs when set
  std::filesystem::path lock_file;  // install exactly what it lists
  bool frozen = false;              // fail when the lock does not match the spec
  archive::Compression compression = archive::Compression::Gzip;
  int64_t source_date_epoch = 0;
  std::filesystem::path apt_root = "/";  // where the host's apt sources are read
  // --release: the Debian release of every image; flavor names mean its
  // flavors and a spec naming another release is refused. "": each image's
  // specs say, else default_release.
  std::string release;
  // The release when nothing names one: the host's own (the CLI reads it from
  // os-release); "": the newest stable.
  std::string default_release;
  bool allow_expired_release = false;
  // Accept a Release older than the newest one seen for its suite (a mirror
  // rolled back on purpose); refused by default as a replay.
  bool allow_release_rollback = false;
  // How old (seconds) a cached InRelease may be and still vouch for a cached
  // resolution without asking the mirror again; 0 always asks (--refresh).
  int64_t release_max_age = 300;
  unsigned jobs = 0;          // threads per layer when compressing; 0: the pool's size
  RegistrySettings registry;  // for docker:// outputs and the layer caches below
  // --cache-from / --cache-to: a layer cache in a registry (remote_layer_cache.hpp),
  // docker://HOST/REPOSITORY[:TAG]; "" for none.
  std::string cache_from;
  std::string cache_to;
};

// The release flavor names and release-less specs mean: --release, else the default.
inline std::string wanted_release(const BuildRequest& request) {
  if (!request.release.empty()) {
    return request.release;
  }
  return request.default_release.empty() ? debian::newest_stable_release()
                                         : request.default_release;
}

}  // namespace distill::image
