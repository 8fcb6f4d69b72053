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

#include "util/result.hpp"

namespace distill::crypto {

// The content of `path`, if the file is there and whole.
std::optional<std::string> read_sealed(const std::filesystem::path& path);
// Writes `content` with its digest line to `path`.
Status write_sealed(const std::filesystem::path& path, std::string_view content);

}  // namespace distill::crypto
