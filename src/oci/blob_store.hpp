// BlobStore: a content-addressed directory of blobs, DIR/sha256/<hex>, as in the
// blobs/ directory of an OCI image layout (image-layout.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/sha256.hpp"
#include "oci/descriptor.hpp"
#include "util/result.hpp"

namespace distill::oci {

class BlobStore {
 public:
  // Creates dir (and dir/sha256) if needed. For a layout, pass LAYOUT/blobs.
  static Result<BlobStore> open(const std::filesystem::path& dir);
  // A store in a directory no other writer or reader sees until it is
  // complete (a new layout assembled in its staging directory): put() writes
  // each blob in place (util::write_new_file) rather than through a
  // temporary file.
  static Result<BlobStore> open_private(const std::filesystem::path& dir);

  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }
  [[nodiscard]] std::filesystem::path path_for(const crypto::Digest& digest) const;
  // The blob is there (of `size` bytes, when given: a blob cut short, by a
  // full disk or by hand, is not taken as present, and is written again).
  [[nodiscard]] bool contains(const crypto::Digest& digest,
                              std::optional<uint64_t> size = std::nullopt) const;

  // Stores `data` atomically (skipped if present) and describes it.
  Result<Descriptor> put(std::string_view data, std::string media_type);
  // Places a copy of the file `source` as the blob `digest`: a reflink where
  // the filesystem supports it, else a copy, never a hard link, so the blob
  // never shares an inode with `source` (a cache entry damaged later cannot
  // reach an output, nor the reverse). The bytes are hashed on the way: when
  // `source` does not hold `digest`, nothing is placed and the error (Corrupt)
  // names `source`. Skipped if the blob is already present, with the size of
  // `source`. `hashed`: this
  // process wrote `source` and hashed its bytes on the way (a layer it just
  // made), so the copy is made in the kernel and not hashed again.
  Status put_file(const crypto::Digest& digest, const std::filesystem::path& source,
                  bool hashed = false);

 private:
  explicit BlobStore(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  std::filesystem::path m_dir;
  bool m_private = false;
};

// Hashes a file: its sha256 digest and size.
struct FileDigest {
  crypto::Digest digest;
  uint64_t size = 0;
};
Result<FileDigest> digest_file(const std::filesystem::path& path);

}  // namespace distill::oci
