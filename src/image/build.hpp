// The build pipeline: spec -> (per architecture) resolved packages -> layers ->
// image config -> manifests and an index -> every requested output.
//
// One call does everything `distill build` and `distill lock` need; the CLI
// only turns flags into a BuildRequest. Every output is a pure function of
// (spec chain, resolved package set, source date epoch, compression), so the
// same inputs give the same digests on any machine, with any -j, with a cold or
// warm cache. See ARCHITECTURE.md for the data flow.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "archive/compressor.hpp"
#include "debian/lock_file.hpp"
#include "image/image_settings.hpp"
#include "image/outputs.hpp"
#include "image/package_layer.hpp"
#include "oci/image.hpp"
#include "util/progress.hpp"
#include "util/result.hpp"

namespace distill::image {

struct BuildRequest {
  std::string spec;                  // a spec file path or a built-in flavor name
  std::vector<std::string> outputs;  // image references; empty: oci:./out/NAME:TAG
  std::string tag = "latest";
  std::string name;                // overrides the spec's name when set
  std::vector<std::string> archs;  // overrides the spec's archs when set
  Variant variant = Variant::Latest;
  std::filesystem::path lock_file;  // install exactly what it lists
  bool frozen = false;              // fail when the lock does not match the spec
  std::filesystem::path cache_dir;  // empty: net::default_cache_dir()
  unsigned jobs = 0;                // 0: one per CPU
  archive::Compression compression = archive::Compression::Gzip;
  int64_t source_date_epoch = 0;
  std::filesystem::path apt_root = "/";  // where the host's apt sources are read
  bool allow_expired_release = false;
  // How old (seconds) a cached InRelease may be and still vouch for a cached
  // resolution without asking the mirror again; 0 always asks (--refresh).
  int64_t release_max_age = 300;
  util::Progress* progress = nullptr;
  RegistrySettings registry;  // for docker:// outputs
};

struct BuildResult {
  std::string name;
  std::string tag;
  std::vector<std::string> archs;
  oci::Image image;
  std::map<std::string, std::vector<InstalledPackage>> packages;  // by arch, sorted by name
  debian::LockFile lock;  // what was resolved, as `distill lock` writes it
  std::vector<std::string> outputs_written;
};

// Resolves, downloads, assembles and writes every output.
Result<BuildResult> build_image(const BuildRequest& request);

// Resolves only (no download, no layers) and returns the lock.
Result<debian::LockFile> lock_image(const BuildRequest& request);

}  // namespace distill::image
