// SbomCache: see sbom_cache.hpp.
#include "check/sbom_cache.hpp"

#include "image/layer_cache.hpp"
#include "util/build_id.hpp"
#include "util/file_io.hpp"

namespace distill::check {

SbomCache::SbomCache(const std::filesystem::path& cache_dir) : m_dir(cache_dir / "sboms") {}

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

std::filesystem::path SbomCache::path_for(const std::string& key) const {
  return m_dir / (key + ".json");
}

std::optional<std::string> SbomCache::lookup(const std::string& key) const {
  if (key.empty()) {
    return std::nullopt;
  }
  auto text = util::read_file(path_for(key));
  if (!text.ok()) {
    return std::nullopt;
  }
  const size_t newline = text->find('\n');
  const std::string_view whole = *text;
  auto recorded = crypto::Digest::parse(whole.substr(0, newline));
  std::string_view document = newline == std::string::npos ? "" : whole.substr(newline + 1);
  crypto::Sha256 hash;
  hash.update(document);
  if (newline == std::string::npos || !recorded.ok() || hash.finish() != *recorded) {
    std::error_code ec;
    std::filesystem::remove(path_for(key), ec);
    return std::nullopt;
  }
  return std::string(document);
}

Status SbomCache::store(const std::string& key, std::string_view document) const {
  if (key.empty()) {
    return {};
  }
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  if (ec) {
    return util::errno_error(m_dir, ec.value());
  }
  crypto::Sha256 hash;
  hash.update(document);
  std::string text = hash.finish().str() + "\n";
  text += document;
  return util::write_file_atomic(path_for(key), text);
}

}  // namespace distill::check
