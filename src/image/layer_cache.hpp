// LayerCache: layers are pure functions of their inputs, so each finished layer
// is recorded under a key derived from those inputs (package sha256s, generated
// content, source date epoch, compression, format version). A hit returns the
// stored blob without reading a .deb or compressing a byte.
//
// On disk: <cache>/layers/<key>.json describes the layer, its blob lives in the
// cache's blob store <cache>/blobs/sha256/<digest>. Both are published with
// atomic renames (or, for a record, a hard link), the record after the blob,
// so a reader never sees a record whose blob is missing or partial. A build
// records the layers it made together, once the last is made: one file,
// {"records": {KEY: RECORD, ...}}, under every key's name (store_all). The
// record keeps the blob's stamp (size and mtime) as it was when verified: a
// lookup that finds the blob changed since hashes it, and drops it (a miss:
// the layer is rebuilt) unless it still holds its digest. Outputs are copied
// from the blob and verified again on the way.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/sha256.hpp"
#include "oci/image.hpp"
#include "util/result.hpp"

namespace distill::image {

// Accumulates the inputs of a layer into its cache key.
class LayerKey {
 public:
  explicit LayerKey(std::string_view kind);
  LayerKey& add(std::string_view field, std::string_view value);
  LayerKey& add(std::string_view field, int64_t value);
  // The key. It ends the hashing: later calls return the same value, and
  // add() after it is a programming error.
  [[nodiscard]] std::string hex();

 private:
  crypto::Sha256 m_hash;
  std::string m_hex;
};

class LayerCache {
 public:
  explicit LayerCache(std::filesystem::path cache_dir);

  [[nodiscard]] std::filesystem::path blob_dir() const { return m_dir / "blobs"; }
  // Where the layer records live (and records kept alongside them).
  [[nodiscard]] std::filesystem::path record_dir() const { return m_dir / "layers"; }
  // The recorded layer for `key`, if its blob is present and verified.
  std::optional<oci::LayerBlob> lookup(const std::string& key) const;
  Status store(const std::string& key, const oci::LayerBlob& blob) const;
  // Records several layers at once (a build's, once they are all made): one
  // file holding every record, hard-linked under each key's name. One new
  // file rather than one a layer: creating a file was the dearest step of
  // recording a layer, 0.2-0.3 ms each on ext4 without a journal where many
  // were recently deleted (its inode allocator looks at each of those).
  Status store_all(const std::vector<std::pair<std::string, oci::LayerBlob>>& layers) const;
  // When `blob` is one of this cache's blobs and no longer holds its digest
  // (damaged in place, its size and mtime unchanged: lookup() trusted it),
  // removes it, so that the layer is rebuilt; true when it was damaged.
  bool drop_if_damaged(const oci::LayerBlob& blob) const;
  // Records a layer whose verified blob lies elsewhere (a registry pull in the
  // content cache): hard-linked into the blob store (copied across file
  // systems), then recorded. Returns the blob as the cache now holds it.
  Result<oci::LayerBlob> adopt(const std::string& key, const oci::LayerBlob& blob) const;

 private:
  Status make_record_dir() const;

  std::filesystem::path m_dir;
};

}  // namespace distill::image
