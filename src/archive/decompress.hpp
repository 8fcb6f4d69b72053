// Decompression of whole buffers or streams whose format is detected from the
// magic bytes: xz, lzma (alone), gzip, bzip2, zstd, or plain (passed through).
// Used for Packages.{xz,gz} indexes and any other compressed metadata.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "archive/byte_sink.hpp"
#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::archive {

enum class Codec { Plain, Gzip, Xz, Lzma, Bzip2, Zstd };

// What a decoder checks of a stream besides its structure.
enum class Checksums {
  Verify,  // gzip's CRC-32 and xz's check of each block, as the formats define
  // Not computed: for bytes the caller verified by other means before it uses
  // what came out of them (a Packages file hashed against its signed Release,
  // a .deb from the content cache against the SHA-256 its index gives). The
  // CRC-32 cost a tenth of inflating bookworm main's Packages.gz, on the
  // thread a cold build waits for; xz's CRC64 6.7 ms of a warm base build's
  // 587 ms of CPU.
  Skip,
};

// Detects the codec from the first bytes (Plain if none matches).
Codec detect_codec(std::string_view head);

// Whole-buffer decompression. A Corrupt error names `origin` (a URL or path).
Result<std::string> decompress(std::string_view data, const std::string& origin);

// Streaming variants: decompressed bytes go to `out` (finish() is called).
Status decompress_to(std::string_view data, ByteSink& out, const std::string& origin);
Status decompress_file(const std::filesystem::path& path, ByteSink& out);

// The SHA-256 and size of a layer blob's uncompressed bytes (its diff_id), as
// the readers of images decode it (layer_decoder.hpp).
struct UncompressedDigest {
  crypto::Digest digest;
  uint64_t size = 0;
};
Result<UncompressedDigest> uncompressed_digest(const std::filesystem::path& path);

// The members of a gzip stream held in memory, inflated one at a time: how a
// layer the chunked gzip compressor wrote (compressor.hpp: one member per
// chunk) is read back chunk by chunk, each member's bytes at hand to be
// copied as they are. A member that inflates to more than `max_size` bytes,
// a damaged one or trailing garbage is Corrupt, naming `origin`.
class GzipMemberReader {
 public:
  GzipMemberReader(std::string_view data, size_t max_size, std::string origin);
  ~GzipMemberReader();
  GzipMemberReader(const GzipMemberReader&) = delete;
  GzipMemberReader& operator=(const GzipMemberReader&) = delete;

  // Moves to the next member: false at the end of the stream.
  Result<bool> next();
  // The current member, compressed as it is in the stream, and inflated.
  [[nodiscard]] std::string_view member() const { return m_member; }
  [[nodiscard]] std::string_view content() const { return m_content; }
  // Where the current member's content starts in the inflated stream.
  [[nodiscard]] uint64_t offset() const { return m_offset; }

 private:
  struct Inflater;
  std::string_view m_data;
  std::string m_origin;
  std::unique_ptr<Inflater> m_inflater;
  std::string m_buffer;
  std::string_view m_member;
  std::string_view m_content;
  uint64_t m_offset = 0;
  size_t m_position = 0;  // in m_data, after the current member
};

}  // namespace distill::archive
