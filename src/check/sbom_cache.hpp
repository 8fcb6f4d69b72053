// The SBOM documents `build --sbom` made, kept in the cache directory so that
// a rebuild that changes nothing reads no layer for its SBOMs (making the
// SBOM of a cached java17 application reads the whole 67 MB JDK layer).
//
// A document depends only on what its key covers: the image manifest's digest
// (which covers the config and every layer), the format, the options (the
// document's name, the .deb hashes, the tool version) and the program that
// made it, by its build ID (util/build_id.hpp), so a rebuilt distill never
// reads what another made. A program without a build ID keeps nothing.
//
// On disk: <cache>/sboms/<key>.json, a sealed file (crypto/sealed_file.hpp):
// the document's SHA-256 on its first line, checked on every read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "check/sbom.hpp"
#include "check/view_cache.hpp"
#include "crypto/sealed_file.hpp"
#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::check {

class SbomCache {
 public:
  explicit SbomCache(const std::filesystem::path& cache_dir);

  // "" when nothing is kept (no build ID).
  [[nodiscard]] std::string key(const crypto::Digest& manifest, SbomFormat format,
                                const SbomOptions& options) const;
  // The document kept under `key`, if it is there and whole.
  [[nodiscard]] std::optional<std::string> lookup(const std::string& key) const;
  // Keeps `document` under `key` (nothing for an empty key).
  Status store(const std::string& key, std::string_view document) const;
  // What the SBOMs' views read of each layer (purpose "sbom"): an SBOM made
  // anew reads only the layers it has not read before.
  [[nodiscard]] const ViewCache& views() const { return m_views; }

 private:
  crypto::SealedStore m_documents;  // <cache>/sboms/<key>.json
  ViewCache m_views;
};

}  // namespace distill::check
