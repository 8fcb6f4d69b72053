// SbomCache: see sbom_cache.hpp.
#include "check/sbom_cache.hpp"

#include "image/layer_cache.hpp"
#include "util/build_id.hpp"

namespace distill::check {

SbomCache::SbomCache(const std::filesystem::path& cache_dir)
    : m_documents(cache_dir / "sboms", ".json"), m_views(cache_dir, "sbom") {}

std::string SbomCache::key(const crypto::Digest& manifest, SbomFormat format,
                           const SbomOptions& options) const {
  const std::string& program = util::program_build_id();
  if (program.empty()) {
    return {};
  }
  image::LayerKey key("sbom");
  key.add("program", program)
      .add("manifest", manifest.str())
      .add("format", sbom_media_type(format))
      .add("name", options.name)
      .add("tool-version", options.tool_version);
  for (const auto& [package, sha256] : options.deb_sha256) {
    key.add("deb", package).add("sha256", sha256);
  }
  return key.hex();
}

std::optional<std::string> SbomCache::lookup(const std::string& key) const {
  return m_documents.lookup(key);
}

Status SbomCache::store(const std::string& key, std::string_view document) const {
  return m_documents.store(key, document);
}

}  // namespace distill::check
