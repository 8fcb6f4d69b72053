// `distill diff`: what differs between two images, read from the images alone —
// their Debian packages (name and architecture -> version, from the dpkg status
// entries), the files of their merged filesystems (type, content sha256, mode,
// owner, size, link target; whiteouts applied), their runtime config and which
// layers they share.
//
// Layers are compared by diff_id (their uncompressed content), so an image
// recompressed is the same image. What both images take from identical layers is
// not compared twice: a layer both hold is read once (the bottom layers the two
// stacks start with are folded once for both), and a file both images take from
// a layer with the same diff_id under the same name has the same content without
// being hashed. Only regular files that both images hold from different layers
// are hashed, and only the status files that differ are parsed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "archive/tar_entry.hpp"
#include "oci/image_reader.hpp"
#include "oci/source.hpp"
#include "util/result.hpp"

namespace distill::check {

enum class Change { Added, Removed, Changed };
const char* to_string(Change change);  // "added", "removed", "changed"

// A package, keyed by name and architecture.
struct PackageChange {
  Change change = Change::Changed;
  std::string name;
  std::string arch;
  std::string a_version;  // "" when added
  std::string b_version;  // "" when removed
};

// One side of a file entry.
struct FileState {
  archive::EntryType type = archive::EntryType::File;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;        // regular files (hard links: their target's)
  std::string link_target;  // symlink: as written; hard link: absolute target path
  std::string sha256;       // "sha256:..." of the content, when it had to be read; else ""
};

struct FileChange {
  Change change = Change::Changed;
  std::string path;  // absolute
  std::optional<FileState> a;
  std::optional<FileState> b;
  // Changed: what differs, in this order: "type" (then nothing else is
  // compared), "content", "size", "mode", "owner", "target". A symlink's mode
  // is not compared (Linux ignores it); a hard link's content is its target's,
  // which has an entry of its own.
  std::vector<std::string> what;
};

struct ConfigChange {
  Change change = Change::Changed;
  // "entrypoint", "cmd", "user", "workdir", "stop_signal" (the whole value), or
  // "env", "label" (one KEY), "port", "volume" (one item, no value).
  std::string field;
  std::string key;  // env/label name, port, volume; "" for whole-value fields
  // Strings, or for entrypoint/cmd an array; null on the side lacking it.
  nlohmann::json a;
  nlohmann::json b;
};

struct LayerSide {
  size_t index = 0;  // position in its image, 0 = bottom
  std::string diff_id;
  std::string digest;  // compressed blob
  uint64_t size = 0;   // compressed
  std::string created_by;
};

struct SharedLayer {
  std::string diff_id;
  size_t a_index = 0;
  size_t b_index = 0;
};

struct LayerDiff {
  std::vector<SharedLayer> shared;  // in B's order
  std::vector<LayerSide> only_a;
  std::vector<LayerSide> only_b;
  size_t common_prefix = 0;  // bottom layers the two stacks have in common
  bool same_stack = false;   // the same diff_ids in the same order
};

struct DiffSide {
  std::string ref;  // as given
  std::string manifest_digest;
  std::string platform;  // "linux/amd64"
};

struct ImageDiff {
  DiffSide a;
  DiffSide b;
  std::vector<PackageChange> packages;  // by name, then arch
  std::vector<FileChange> files;        // by path
  std::vector<ConfigChange> config;     // by field, then key
  LayerDiff layers;

  [[nodiscard]] bool identical() const {
    return packages.empty() && files.empty() && config.empty() && layers.same_stack;
  }
};

struct DiffRequest {
  std::string a;  // image references (oci:, oci-archive:, docker-archive:, docker://)
  std::string b;
  std::string debian_arch;  // "" = the host's (or an image's only platform)
  oci::SourceOptions source;
};

// Opens both images (an error names the reference it is about) and compares
// the selected platform's manifests.
Result<ImageDiff> diff_images(const DiffRequest& request);
// Compares two loaded manifests (DiffSide::ref left empty).
Result<ImageDiff> diff_manifests(const oci::LoadedManifest& a, const oci::LoadedManifest& b);

// The JSON document of `distill diff --json` (docs/diff.md).
nlohmann::json to_json(const ImageDiff& diff);
// The human report: a ---/+++ header, then the sections Packages, Files,
// Config and Layers that have differences, one +/-/~ line each, aligned. ""
// when the images are identical.
std::string to_text(const ImageDiff& diff);

}  // namespace distill::check
