// LayerDecoder: the uncompressed bytes of an image layer's blob, pulled a
// block at a time and hashed as they are handed out, so that whoever reads
// them (the tar reader, for_each_tar_entry_verified) learns at the end whether
// they are the diff_id the image's config gives, without decompressing the
// blob a second time. A blob of 1 MiB or more is hashed on a thread of its
// own, a few pieces behind the reader: SHA-256 costs about what zstd's
// decoding does, and the reader (a tar parser, an unpacker) need not wait for
// it where a core is free.
//
// The blob is mapped and its codec detected from its first bytes: gzip
// (members inflated whole by libdeflate while they fit a block, as the 1 MiB
// chunks distill's compressor writes do; a bigger member, and everything after
// it, through zlib's streaming inflate), zstd (libzstd's streaming decoder,
// frames one after another), a plain tar (handed out from the mapping, not
// copied), or any other codec libarchive reads (xz, bzip2, lzma). As libarchive
// reads gzip, bytes after a member that do not start another member end the
// stream; a member or a zstd frame cut short is Corrupt.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::archive {

// What a blob's file was when it was opened (fstat): a file that still has all
// of these holds the same bytes, short of someone who set them back on purpose.
struct BlobStamp {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;  // which no one sets back: any change moves it
  auto operator<=>(const BlobStamp&) const = default;
};

class LayerDecoder {
 public:
  // Errors (here and from next()) name `origin`.
  static Result<std::unique_ptr<LayerDecoder>> open(const std::filesystem::path& file,
                                                    std::string origin);
  ~LayerDecoder();
  LayerDecoder(const LayerDecoder&) = delete;
  LayerDecoder& operator=(const LayerDecoder&) = delete;

  // The next piece of the uncompressed stream, valid until the next call;
  // empty at its end (and on every call after).
  Result<std::string_view> next();
  // Reads what is left of the stream, hashing it.
  Status drain();
  // Before the first next(): the pieces are not hashed (digest() stays empty).
  void skip_hash() { m_hash = false; }
  // The blob's file as it was opened.
  [[nodiscard]] const BlobStamp& stamp() const { return m_stamp; }

  // Once next() gave an empty piece: the SHA-256 of the whole stream.
  [[nodiscard]] const crypto::Digest& digest() const { return m_digest; }
  // The bytes handed out so far (at the end: the stream's size).
  [[nodiscard]] uint64_t size() const { return m_size; }
  [[nodiscard]] const std::string& origin() const { return m_origin; }

 private:
  struct State;
  class Hasher;
  LayerDecoder(std::unique_ptr<State> state, std::string origin);
  Result<std::string_view> decode(unsigned char* out);

  std::unique_ptr<State> m_state;
  std::string m_origin;
  crypto::Sha256 m_sha;  // when the pieces are hashed here
  crypto::Digest m_digest;
  BlobStamp m_stamp;
  bool m_hash = true;
  uint64_t m_size = 0;
  uint64_t m_pieces = 0;  // handed out
  bool m_ended = false;
};

}  // namespace distill::archive
