// ImageView: the merged root filesystem of one image manifest, without unpacking.
//
// The layers are streamed in order once and folded into a map of absolute path ->
// FileInfo with the OCI layer semantics (image-spec layer.md): a later entry
// replaces an earlier one (a non-directory replacing a directory drops its
// children), `.wh.NAME` deletes NAME (and everything under it) from lower layers,
// `.wh..wh..opq` hides every lower entry of its directory, missing parent
// directories are implied (0755 root). Parent components of an entry are resolved
// through the view's symlinks, as an unpacker confined to the root would.
// File contents are not kept: read_file()/read_files() stream the layer that
// provides a file again (a small cache keeps recent small files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/tar_entry.hpp"
#include "crypto/sha256.hpp"
#include "oci/image_reader.hpp"
#include "oci/source.hpp"
#include "util/result.hpp"

namespace distill::check {

struct FileInfo {
  archive::EntryType type = archive::EntryType::File;
  uint32_t mode = 0644;  // permission bits incl. setuid/setgid/sticky
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;        // regular files (hard links: the target's size)
  std::string link_target;  // symlink: as written; hard link: absolute target path
  size_t layer = 0;         // index of the layer that provides this entry
  std::string tar_path;     // the entry's name in that layer (normalised)
  // Its position among that layer's entries: a layer may hold a name twice
  // (tar appends), and the view's entry is the later one.
  size_t entry = 0;
  int64_t mtime = 0;

  [[nodiscard]] bool is_dir() const { return type == archive::EntryType::Directory; }
  [[nodiscard]] bool is_symlink() const { return type == archive::EntryType::Symlink; }
  [[nodiscard]] bool is_regular() const {
    return type == archive::EntryType::File || type == archive::EntryType::Hardlink;
  }
};

// "-rwxr-xr-x", "drwxr-xr-x", "Lrwxrwxrwx", "dtrwxrwxrwx", "urwxr-xr-x": Go's
// os.FileMode.String() (type letters d L D p S u g c t before the permissions), which
// container-structure-test compares `permissions` against.
std::string go_file_mode(const FileInfo& info);

// The manifest for `debian_arch` ("" = the host's, or the only one). NotFound
// listing the image's platforms when there is no match.
Result<const oci::LoadedManifest*> select_manifest(const oci::LoadedImage& image,
                                                   std::string_view debian_arch);

// Keeps only the manifest select_manifest() picks, and drops the index: the
// image as a copy of one platform writes it (a docker-archive holds one).
Status keep_one_platform(oci::LoadedImage& image, std::string_view debian_arch);

// Loads an image reference and selects one platform: what every check command
// does. Of a registry index only that platform's blobs are fetched.
struct OpenedImage {
  oci::LoadedImage image;
  const oci::LoadedManifest* manifest = nullptr;  // points into `image`
  std::string ref;                                // as given: names the image in errors
};
Result<std::unique_ptr<OpenedImage>> open_image(std::string_view ref, std::string_view debian_arch,
                                                const oci::SourceOptions& source = {});

class ImageView {
 public:
  // Which regular files to keep while the view is folded, by their name in
  // the layer ("usr/share/doc/x/copyright"): those the final view takes from
  // that layer, up to 1 MiB each (16 MiB in all), are read later without
  // streaming the layer again.
  using KeepFn = std::function<bool(std::string_view tar_path)>;
  // Sees the content of every regular file (not hard links) of every layer
  // while the view is folded, so a check that reads contents reads each layer
  // once. Layers are read at once, so it is called from several threads (for
  // different layers) at the same time. It sees files a later entry
  // replaces or deletes too: what the final view holds is what files() gives
  // as (layer, entry). Its error is the layer's. A file `keep` takes comes to
  // it from memory.
  using ScanFn = std::function<Status(size_t layer, size_t position, const archive::TarEntry& entry,
                                      archive::ContentReader& reader)>;
  // The entries of one layer, in order, without their contents: what a view is
  // folded from.
  using LayerEntries = std::vector<archive::TarEntry>;
  // What reading one layer gave: its entries, the files `keep` took (by their
  // position among the entries) and, when it was checked against a diff_id,
  // the size of its uncompressed tar.
  struct LayerRead {
    LayerEntries entries;
    std::map<size_t, std::string> kept;
    std::optional<uint64_t> uncompressed;
  };
  // Layers read before (view_cache.hpp keeps them between runs). A layer
  // `find` gives is taken as it was read then: its file is not read, nor
  // checked against its diff_id, nor shown to `scan`. A layer it does not give
  // is read and handed to `keep` (from several threads at once, for different
  // layers); keep's error is the layer's.
  struct Recall {
    std::function<std::optional<LayerRead>(size_t layer)> find;
    std::function<Status(size_t layer, const LayerRead& read)> keep;
  };
  // `origin` names the image in error messages ("layer 2 of ORIGIN: ...").
  // `diff_ids`, when given (one per layer), are what each layer's
  // uncompressed tar must hash to: checked in the pass that reads it
  // (archive::for_each_tar_entry_verified), a difference is Corrupt.
  static Result<ImageView> load(const std::vector<std::filesystem::path>& layer_files,
                                const std::string& origin = "image", const KeepFn& keep = {},
                                const std::vector<crypto::Digest>& diff_ids = {},
                                const ScanFn& scan = {}, const Recall& recall = {});
  // An image's manifest: its layers checked against its config's diff_ids,
  // the image named by its manifest's digest, or by the reference it was
  // opened by.
  static Result<ImageView> load(const oci::LoadedManifest& manifest, const KeepFn& keep = {});
  static Result<ImageView> load(const OpenedImage& image, const KeepFn& keep = {},
                                const ScanFn& scan = {});
  // The entries of one layer file. `origin` names the layer in errors. With a
  // `diff_id`, the layer's uncompressed tar is checked against it as it is read.
  static Result<LayerEntries> read_entries(const std::filesystem::path& layer_file,
                                           const std::string& origin,
                                           const crypto::Digest& diff_id = {});
  // The view of `layer_files` whose first prefix.layer_count() layers are the
  // layers `prefix` was loaded from (the same diff_ids, e.g. those another image
  // shares): their entries are taken from `prefix`, not read again. Above it,
  // layer i's entries are `known[i]` when that is given and not null (read once
  // for two images holding the same layer), else read from its file (and
  // checked against `diff_ids[i]` when those are given).
  static Result<ImageView> load(const std::vector<std::filesystem::path>& layer_files,
                                const std::string& origin, const ImageView& prefix,
                                const std::vector<const LayerEntries*>& known = {},
                                const std::vector<crypto::Digest>& diff_ids = {});

  // Every entry except the root, keyed by absolute path ("/etc/passwd"), sorted.
  [[nodiscard]] const std::map<std::string, FileInfo>& files() const { return m_files; }
  [[nodiscard]] size_t layer_count() const { return m_layers.size(); }
  // The size of layer `index`'s uncompressed tar, when the view read and
  // checked it against its diff_id (nullopt otherwise).
  [[nodiscard]] std::optional<uint64_t> uncompressed_size(size_t index) const {
    return index < m_uncompressed.size() ? m_uncompressed[index] : std::nullopt;
  }

  // The entry itself (a symlink is not followed); nullptr if absent.
  [[nodiscard]] const FileInfo* lstat(std::string_view path) const;
  // Resolves every symlink in `path` (absolute targets restart at the image root,
  // ".." stops at the root); NotFound if a component is missing. Returns the
  // canonical absolute path ("/" for the root).
  [[nodiscard]] Result<std::string> resolve(std::string_view path) const;
  // The entry `path` leads to after following symlinks; nullptr if none.
  [[nodiscard]] const FileInfo* stat(std::string_view path) const;
  // The names in directory `path` (after following symlinks), sorted.
  [[nodiscard]] std::vector<std::string> list_dir(std::string_view path) const;

  // The content of the regular file `path` (symlinks followed). NotFound if absent,
  // InvalidInput if it is not a regular file.
  [[nodiscard]] Result<std::string> read_file(std::string_view path) const;
  // Several files at once, streaming each providing layer at most once. Paths that
  // do not lead to a regular file are left out of the result.
  [[nodiscard]] Result<std::map<std::string, std::string>> read_files(
      const std::vector<std::string>& paths) const;

  // Keeps, as load() does, the files `keep` names that the view does not hold
  // yet, streaming only the layers that provide them: a caller that will read
  // many small files in several steps reads each layer once.
  Status prefetch(const KeepFn& keep) const;

  // Streams every layer once and calls `fn` with the content of each regular file
  // (not hard links) that the merged view still holds from that layer and that
  // `want(path, info)` selects.
  using ContentFn =
      std::function<Status(const std::string& path, const FileInfo& info, archive::ContentReader&)>;
  using WantFn = std::function<bool(const std::string& path, const FileInfo& info)>;
  Status for_each_content(const WantFn& want, const ContentFn& fn) const;

 private:
  // (layer, position in the layer) -> content of a file kept while folding.
  using Kept = std::map<std::pair<size_t, size_t>, std::string>;
  static Result<LayerRead> read_layer_file(const std::filesystem::path& layer_file,
                                           const std::string& origin, const crypto::Digest& diff_id,
                                           size_t index, const KeepFn& keep, const ScanFn& scan);
  // Folds layers `from`.. into the view in order: layer i from `known[i]`
  // when that is given and not null, else read from its file, those layers
  // all at once on every CPU first (decompressing and hashing layers is most
  // of a check command's time). The first layer, in order, that failed gives
  // the error. With `kept`, the files `keep` names go there; `scan` sees the
  // layers read; `recall` gives layers read before and takes those read now.
  Status read_and_apply(size_t from, const std::vector<const LayerEntries*>& known,
                        const KeepFn& keep = {}, Kept* kept = nullptr, const ScanFn& scan = {},
                        const Recall& recall = {});
  void cache_kept(Kept& kept);
  // Into the cache, unless it is over 1 MiB. A full cache (16 MiB) keeps what
  // it holds (Skip: what was kept for later reads stays), or is emptied first
  // (Evict: a file just read is the likeliest to be read again).
  enum class WhenFull { Skip, Evict };
  void remember(const std::string& path, std::string data, WhenFull full = WhenFull::Skip) const;
  void apply_entry(size_t index, size_t position, const archive::TarEntry& entry);
  void insert(const std::string& path, FileInfo info);
  void erase_tree(const std::string& path, size_t below_layer, bool keep_self);
  [[nodiscard]] std::string resolve_parent(const std::string& path) const;
  // "layer INDEX of ORIGIN": how errors name a layer.
  [[nodiscard]] std::string layer_origin(size_t index) const;

  std::vector<std::filesystem::path> m_layers;
  std::vector<crypto::Digest> m_diff_ids;  // empty: the layers are not checked
  std::vector<std::optional<uint64_t>> m_uncompressed;
  std::string m_origin;
  std::map<std::string, FileInfo> m_files;
  // Recently read small files; mutable because reading is logically const.
  struct Cache;
  std::shared_ptr<Cache> m_cache;
};

}  // namespace distill::check
