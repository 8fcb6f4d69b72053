// What the layers below a spec's files or archive hold, as far as placing
// them goes: directories (with their owner and mode) and symbolic links,
// folded bottom first (an OCI whiteout removes what is below it). A files or
// archive layer is placed over it as Docker's COPY and ADD place theirs:
//  - a parent directory the layers below have is written with their owner
//    and mode (/tmp stays 1777, /home/app 0700 and the user's), a missing one
//    0755 root;
//  - a parent that is a symbolic link there is followed (merged /usr's
//    /lib -> usr/lib on Debian 13): /lib/x goes to usr/lib/x, not into a new
//    `lib/` directory that would hide the link, the loader and libc.
//
// The tree is known while planning, without a .deb, so the layer's key, its
// bytes and the provenance record (fingerprint of the placed files) agree,
// and a build whose layers all come from a cache needs no package. It is
// folded from: the generated files (accounts' homes, /root, /tmp), merged
// /usr's links and the directories base-files ships other than 0755 root
// where the stage has base-files (debian/releases.hpp), the files and archive
// destinations of the stages below, and an image base's layers (each blob's
// listing read once and kept by its digest). Other directories packages ship
// are taken as 0755 root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "image/generated_files.hpp"
#include "oci/image.hpp"
#include "util/result.hpp"

namespace distill::image {

// A layer's directories, symbolic links and whiteouts, in layer order.
struct LayerListing {
  enum class Kind : char { Directory = 'd', Symlink = 'l', Whiteout = 'w', Opaque = 'o' };
  struct Path {
    Kind kind = Kind::Directory;
    std::string path;    // relative to the root; for a whiteout, the path it removes
    std::string target;  // Symlink: as written
    uint32_t mode = 0755, uid = 0, gid = 0;  // Directory
  };
  std::vector<Path> paths;
};

// The listing of entries a layer will hold (generated or spec files).
LayerListing listing_of(const std::vector<GeneratedEntry>& entries);
LayerListing listing_of(const std::vector<archive::TarEntry>& entries);

// The listing of a layer blob (an image base's): kept in
// `<cache_dir>/listings/<digest>`, or read from the blob and kept there.
Result<LayerListing> layer_listing(const oci::LayerBlob& blob,
                                   const std::filesystem::path& cache_dir);

class LowerTree {
 public:
  // Folds one layer over those added before.
  void add_layer(const LayerListing& listing);

  // The directory at `path` (relative, normalised), or nullptr.
  [[nodiscard]] const LayerListing::Path* directory(const std::string& path) const;

  // `path` (relative to the root, normalised) with each leading component
  // that is a symbolic link here followed, as the kernel would inside the
  // image's root (util/path_in_root.hpp); the last component too when
  // `whole`. A path through a loop of links is returned as it is.
  [[nodiscard]] std::string resolve(const std::string& path, bool whole) const;

 private:
  std::map<std::string, LayerListing::Path> m_paths;  // directories and symlinks
};

// Places a layer's entries over `lower`: the parents complete_and_sort()
// added (GeneratedEntry::implied) are dropped; each entry's parents (an
// explicit directory's whole path) resolved through the lower symlinks; the
// parents the layer then lacks added, implied, with the lower directory's
// owner and mode where there is one, else 0755 root; sorted by path. Two
// entries that land on the same path keep the later one.
void place_over(std::vector<GeneratedEntry>& entries, const LowerTree& lower, int64_t epoch);

// The directory entries for `dir` (relative, already resolved) and each of
// its parents, as place_over() makes them: an archive's destination.
std::vector<GeneratedEntry> directories_over(const std::string& dir, const LowerTree& lower,
                                             int64_t epoch);

}  // namespace distill::image
