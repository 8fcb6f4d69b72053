// Provenance: what an image distill built says about itself, so that it can be
// audited and brought up to date (`distill update`) without its spec.
//
// Two parts, both in the image manifest (docs/formats/provenance.md):
//  - on every layer descriptor, annotations saying what the layer holds
//    (dev.distill.layer.kind, .packages, .generated);
//  - on the manifest, dev.distill.provenance: one compact JSON record of the
//    build's inputs (each stage of the `from:` chain as the spec gave it, minus
//    file contents, which are in the image's own layers) and of the resolution
//    (the sources' Release Dates, every package with its sha256).
//
// Nothing machine-specific goes in: no local path (a keyring is named by its
// file name and sha256), no credentials (userinfo is stripped from URLs), no
// host, user or clock. The same inputs give the same record, byte for byte.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/plan.hpp"
#include "image/spec.hpp"
#include "util/result.hpp"

namespace distill::image {

inline constexpr std::string_view k_provenance_annotation = "dev.distill.provenance";
inline constexpr std::string_view k_layer_kind_annotation = "dev.distill.layer.kind";
inline constexpr std::string_view k_layer_packages_annotation = "dev.distill.layer.packages";
inline constexpr std::string_view k_layer_generated_annotation = "dev.distill.layer.generated";
inline constexpr std::string_view k_layer_archive_annotation = "dev.distill.layer.archive";
inline constexpr int k_provenance_version = 1;

// A source as the spec wrote it (`sources:`), without credentials or paths.
struct ProvenanceSource {
  std::string url;
  std::vector<std::string> suites;
  std::vector<std::string> components;
  std::string keyring_name;    // the keyring file's name ("" = the release's default)
  std::string keyring_sha256;  // of its bytes (or of an inline key block)
};

// The spec's `files:` of a stage: they live in the stage's top layer.
struct ProvenanceFiles {
  size_t layer = 0;         // index of that layer in the manifest
  std::string fingerprint;  // entries_fingerprint of the spec's own entries
  // Paths of the layer that are not the spec's own: generated files and the
  // parent directories only they needed, sorted.
  std::vector<std::string> generated;
};

// One spec of the `from:` chain, base first.
struct ProvenanceStage {
  std::string spec;  // its file name, or NAME.yaml for a flavor
  std::string name;
  std::string from;  // as written in the spec
  std::string release;
  std::vector<ProvenanceSource> sources;
  std::vector<std::string> packages;
  std::vector<std::string> exclude;
  std::vector<std::string> trace;
  std::vector<std::string> traced;  // with `trace:`: every package the stage added
  std::optional<std::vector<SpecUser>> users;
  std::optional<std::vector<SpecGroup>> groups;
  std::optional<ProvenanceFiles> files;
  std::vector<SpecArchive> archives;  // `archives:` as written (no line numbers)
};

struct ResolvedSource {
  std::string url;  // without credentials
  std::string suite;
  std::string date;  // the Release file's Date ("" when the build saw none)
};

struct ResolvedPackage {
  std::string name;
  std::string version;
  std::string arch;
  std::string sha256;
};

// The record of one image manifest (one architecture).
struct Provenance {
  int version = k_provenance_version;
  std::string arch;  // Debian architecture
  std::string variant;
  int64_t source_date_epoch = 0;
  std::string compression;
  bool image_base = false;  // the chain starts `from:` an image reference
  std::string spec_digest;  // what a lock's spec_digest is for this chain
  std::vector<ProvenanceStage> stages;
  std::vector<ResolvedSource> sources;
  std::vector<ResolvedPackage> packages;  // sorted by name
};

// Compact JSON, keys sorted: the annotation's value. parse_provenance(to_json(p))
// gives p back.
std::string to_json(const Provenance& provenance);
// InvalidInput naming `origin` for anything that is not a version-1 record.
Result<Provenance> parse_provenance(std::string_view json, const std::string& origin);

// The stage record of `spec`. `added`: the packages the stage installed;
// `top`: the stage's top layer node when it holds the spec's files, at
// `top_layer` in the manifest.
Result<ProvenanceStage> stage_provenance(const Spec& spec,
                                         const std::vector<InstalledPackage>& added,
                                         const LayerNode* top, size_t top_layer);

// The paths of a top layer node that are not the spec's own (see
// ProvenanceFiles::generated).
std::vector<std::string> generated_paths(const LayerNode& node);

// The resolution part: every suite of `sources` with its Release Date (from
// `dates`, by dists/SUITE/ URL), and `packages`.
void record_resolution(Provenance& provenance, const std::vector<debian::AptSource>& sources,
                       const std::map<std::string, std::string>& dates,
                       const std::vector<InstalledPackage>& packages);

// The annotations of the layer `node` makes.
std::map<std::string, std::string> layer_annotations(const LayerNode& node);

// "name=version/arch,..." in the given order.
std::string package_list(const std::vector<InstalledPackage>& packages);

}  // namespace distill::image
