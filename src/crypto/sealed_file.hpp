// A file that carries the SHA-256 of its own content: what a cache keeps of
// the program's own output (SBOM documents, what a view read of a layer), so
// that damage in place is caught on every read, whatever its size or mtime.
//
// On disk: "sha256:<hex>\n" and then the content. Written atomically (its
// directory made first); read whole and checked, and a file whose content does
// not hash to its first line is removed and reads as absent.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "util/result.hpp"

namespace distill::crypto {

// The content of `path`, if the file is there and whole.
std::optional<std::string> read_sealed(const std::filesystem::path& path);
// Writes `content` with its digest line to `path`.
Status write_sealed(const std::filesystem::path& path, std::string_view content);

// A directory of sealed files by key: <dir>/<key><extension>. An empty key
// (a cache that keeps nothing, e.g. without a build ID) finds and keeps nothing.
class SealedStore {
 public:
  SealedStore(std::filesystem::path dir, std::string extension)
      : m_dir(std::move(dir)), m_extension(std::move(extension)) {}

  [[nodiscard]] std::optional<std::string> lookup(const std::string& key) const;
  Status store(const std::string& key, std::string_view content) const;
  // Drops an entry its reader found whole but could not use.
  void remove(const std::string& key) const;

 private:
  [[nodiscard]] std::filesystem::path path_for(const std::string& key) const;
  std::filesystem::path m_dir;
  std::string m_extension;
};

}  // namespace distill::crypto
