// What an ImageView read of a layer, kept in the cache directory between runs,
// so that a view of an image whose base is unchanged reads only its new layers
// (`build --sbom` after the application changed: the SBOM of a java17
// application otherwise decompresses the 67 MB JDK layer again).
//
// An entry is one layer as one kind of view read it (ImageView::LayerRead):
// its entries, the small files the view's KeepFn took and its uncompressed
// size. Its key covers the layer blob's digest, the diff_id it was checked
// against (if any), the `purpose` that names the KeepFn (e.g. "sbom", for
// sbom_reads) and the program that read it, by its build ID
// (util/build_id.hpp): a rebuilt distill, whose KeepFn or limits may differ,
// never reads another's entries. A program without a build ID keeps nothing.
//
// The blob digest is the caller's word: the layer files a view is given must
// hold those digests (a build's layers do: it wrote them or took them from its
// verified cache).
//
// On disk: <cache>/views/<key>.bin, a sealed file (crypto/sealed_file.hpp) of
// a binary record; a damaged or malformed one is removed and read again.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/image_view.hpp"
#include "crypto/sealed_file.hpp"
#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::check {

class ViewCache {
 public:
  ViewCache(const std::filesystem::path& cache_dir, std::string purpose);

  // "" when nothing is kept (no build ID).
  [[nodiscard]] std::string key(const crypto::Digest& blob, const crypto::Digest& diff_id) const;
  [[nodiscard]] std::optional<ImageView::LayerRead> lookup(const std::string& key) const;
  // Keeps `read` under `key` (nothing for an empty key).
  Status store(const std::string& key, const ImageView::LayerRead& read) const;

  // A Recall for a view of the layers whose blobs are `blobs` (one per layer)
  // and, when they are checked, whose diff_ids are `diff_ids`. The layers
  // `always_read` (e.g. those a ScanFn must see) are neither looked up nor
  // kept. The cache must outlive it.
  [[nodiscard]] ImageView::Recall recall(std::vector<crypto::Digest> blobs,
                                         std::vector<crypto::Digest> diff_ids = {},
                                         std::vector<bool> always_read = {}) const;

 private:
  crypto::SealedStore m_records;  // <cache>/views/<key>.bin
  std::string m_purpose;
};

// The binary record of one LayerRead, and back (nullopt for bytes that are not
// one: wrong version, truncated, trailing bytes, an unknown entry type).
std::string encode_layer_read(const ImageView::LayerRead& read);
std::optional<ImageView::LayerRead> decode_layer_read(std::string_view bytes);

}  // namespace distill::check
