// Decompression of whole buffers or streams whose format is detected from the
// magic bytes: xz, lzma (alone), gzip, bzip2, zstd, or plain (passed through).
// Used for Packages.{xz,gz} indexes and any other compressed metadata.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "archive/byte_sink.hpp"
#include "util/result.hpp"

namespace distill::archive {

enum class Codec { Plain, Gzip, Xz, Lzma, Bzip2, Zstd };

// Detects the codec from the first bytes (Plain if none matches).
Codec detect_codec(std::string_view head);

// Whole-buffer decompression. A Corrupt error names `origin` (a URL or path).
Result<std::string> decompress(std::string_view data, const std::string& origin);

// Streaming variants: decompressed bytes go to `out` (finish() is called).
Status decompress_to(std::string_view data, ByteSink& out, const std::string& origin);
Status decompress_file(const std::filesystem::path& path, ByteSink& out);

}  // namespace distill::archive
