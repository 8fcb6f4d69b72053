// A layer of several packages, made again when some of them changed.
//
// write_package() makes a package's part of a layer from its .deb, and what
// it writes depends only on the .deb and on the directories the layer holds
// before it (a directory entry already written is skipped). A grouped layer
// (layer_plan.hpp) is its packages written one after the other, so each
// package's entries are one contiguous stretch of the tar.
//
// So every grouped layer made leaves a record next to the layer cache's
// (<cache>/layers/groups/<key>.json, keyed by the packages' names and
// architectures, the epoch and the compression): the layer's cache key and
// digest, and for each package its sha256, where its stretch starts and ends
// and the directories it added. When the same names come again with one
// package at another version (`update`, a `build --refresh` after a point
// release), a package whose .deb is the same and which starts on the same
// directories is copied from the recorded layer's tar, not decoded from its
// .deb; the others are written from their .debs. The tar is then byte for
// byte the one a fresh layer has. For gzip, the compressor's chunks
// (compressor.hpp) that lie wholly before the first changed package are
// taken as they are, compressed.
//
// Only gzip layers are copied from (zstd's single stream would have to be
// read from its start anyway; that is left for later); any other layer, a
// missing or inconsistent record, a blob that fails its digest: the layer is
// made from the .debs as always.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "archive/compressor.hpp"
#include "image/layer_cache.hpp"
#include "image/layer_writer.hpp"
#include "image/package_layer.hpp"
#include "oci/image.hpp"
#include "util/result.hpp"

namespace distill::image {

// Where one package's entries lie in a grouped layer's tar.
struct PackageSegment {
  std::string name;
  std::string arch;
  std::string sha256;  // of the .deb
  uint64_t start = 0;  // tar offsets: [start, end)
  uint64_t end = 0;
  std::vector<std::string> directories;  // first written by this package
};

class PackageGroupWriter {
 public:
  // `cache_dir`: the content cache's directory (library catalogs).
  PackageGroupWriter(const LayerCache& layers, std::filesystem::path cache_dir, int64_t epoch,
                     archive::Compression compression);

  // Writes `packages` into `writer`, which has nothing written yet. `await`
  // is called before a package's .deb is read (it may still be downloading).
  // Library catalogs are made on the way for packages that have none stored.
  Status write(LayerWriter& writer, const std::vector<InstalledPackage>& packages,
               const std::function<Status(const InstalledPackage&)>& await);

  // Records the finished layer for the next one of the same names (best
  // effort: a layer of a single package has none).
  void record(const std::string& key, const oci::LayerBlob& blob) const;

  // How many packages the last write() copied from a recorded layer, and
  // how many bytes of compressed chunks it took as they were.
  [[nodiscard]] size_t copied() const { return m_copied; }
  [[nodiscard]] uint64_t chunks_reused() const { return m_chunks_reused; }

 private:
  [[nodiscard]] std::filesystem::path record_path() const;
  Status write_fresh(LayerWriter& writer, const InstalledPackage& package,
                     const std::function<Status(const InstalledPackage&)>& await) const;

  const LayerCache& m_layers;
  std::filesystem::path m_cache_dir;
  int64_t m_epoch;
  archive::Compression m_compression;
  std::vector<PackageSegment> m_segments;
  std::string m_names_key;
  size_t m_copied = 0;
  uint64_t m_chunks_reused = 0;
};

}  // namespace distill::image
