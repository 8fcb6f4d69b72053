// An upstream archive (a spec's `archives:` entry) as one layer: its tar (or zip)
// entries, with `strip` leading components dropped, placed under `dst`,
// filtered by the `include`/`exclude` globs, owned by uid:gid (root unless the
// spec says otherwise), with the spec's modes, and mtimes clamped to the
// source date epoch. The archive is read from the content cache, where it
// was verified against its sha256 before anything sees it.
//
// Containment is the one .debs follow (archive::EntryContainment: no "..", no
// devices or FIFOs, hard links only to earlier entries) plus rules of its
// own: a symbolic link must point inside `dst` (an absolute target too) where
// it really leads, the archive's own symlinks followed (judged once every
// entry is known: a link may pass through one that comes later), so an
// archive cannot plant a link that reaches the rest of the image; one entry
// per path, none inside a file or symlink of the archive; no whiteout names
// (.wh.*) and no name over 255 bytes (archive::layer_path_problem).
//
// The layer also holds a record of where it came from,
// /var/lib/distill/archives/<sha256>.json (name, version, url, sha256, dst):
// the SBOM reads it from the image, as it reads dpkg's status.d for packages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive/tar_entry.hpp"
#include "crypto/sha256.hpp"
#include "image/layer_writer.hpp"
#include "image/library_catalog.hpp"
#include "util/result.hpp"

namespace distill::image {

struct SpecArchive;
struct SpecArchiveDownload;

inline constexpr std::string_view k_archive_records_dir = "var/lib/distill/archives";
// Bumped when the way an archive becomes a layer changes (part of the layer key).
inline constexpr int k_archive_layer_format = 1;

// One archive download and how it is unpacked.
struct ArchiveInput {
  std::string name;     // may be ""
  std::string version;  // may be ""
  std::string url;
  crypto::Digest sha256;
  std::filesystem::path file;  // the verified download (the content cache's entry)
  uint32_t strip = 0;
  std::string dst = "/";
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> mode;
  std::optional<uint32_t> dir_mode;
  std::string origin;  // "SPEC:LINE" of the entry, for messages (not a layer input)
  // Set by the plan (lower_tree.hpp): where dst is once the links of the
  // layers below are followed ("" = dst as written), and the directory
  // entries of that place and its parents, with the owner and mode the layers
  // below give them.
  std::string placed_dst;
  std::vector<archive::TarEntry> dst_directories;

  // "archive NAME VERSION (URL)" or "archive URL": names the archive in errors.
  [[nodiscard]] std::string label() const;
};

ArchiveInput archive_input(const SpecArchive& archive, const SpecArchiveDownload& download);

// Calls `fn` with each entry as it goes into the image (path relative to the
// image root), in archive order; content streams for regular files. A Corrupt
// error names the archive and the entry for anything the rules above refuse.
Status for_each_archive_entry(
    const ArchiveInput& input, int64_t epoch,
    const std::function<Status(const archive::TarEntry&, archive::ContentReader&)>& fn);

// The JSON record written at k_archive_records_dir/<sha256>.json.
std::string archive_record(const ArchiveInput& input);

// Writes the archive's layer: dst and its parents (`dst_directories`, else
// 0755 root), the entries (under `placed_dst` when set), the record.
Status write_archive_layer(LayerWriter& layer, const ArchiveInput& input, int64_t epoch);

// A file of an archive as `trace:` sees it: an ELF file (its soname, needed
// libraries and interpreter) or a symlink, at its absolute path in the image.
struct ArchiveFile {
  LibraryFile file;
  std::string interpreter;  // PT_INTERP, "" if none
};

// The ELF files and symlinks of an archive (with the same rules as the layer).
Result<std::vector<ArchiveFile>> archive_elf_files(const ArchiveInput& input, int64_t epoch);

}  // namespace distill::image
