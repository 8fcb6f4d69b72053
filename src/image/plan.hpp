// The build plan: everything about a build that needs no .deb's contents,
// as data. plan_build() loads each image's `from:` chain, checks that every
// stage agrees with its base on release and sources, resolves the packages
// of every stage and architecture (indices loaded once per (sources, arch)
// and freed before it returns), and lays out the layers as nodes keyed by
// their inputs, so a layer that several images share is one node.
//
// `distill lock` writes a plan's package set; execute() (execute.hpp) turns
// a plan into images. The one exception to "no .deb is opened": `trace:`
// follows ELF dependencies, so the .debs of a stage with `trace:` (and of its
// bases) are downloaded while planning.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "debian/apt_sources.hpp"
#include "debian/lock_file.hpp"
#include "image/archive_layer.hpp"
#include "image/env.hpp"
#include "image/from_chain.hpp"
#include "image/generated_files.hpp"
#include "image/image_settings.hpp"
#include "image/local_ca.hpp"
#include "image/package_layer.hpp"
#include "image/request.hpp"
#include "net/content_cache.hpp"
#include "oci/image.hpp"

namespace distill::image {

// One layer to make (or take from the layer cache, or from a base image).
struct LayerNode {
  enum class Kind {
    Packages,  // Debian packages unpacked (their libraries cataloged on the way)
    Entries,   // generated files known while planning (accounts, os-release, ...)
    Top,       // a stage's top: ld.so.cache, trust stores, CA bundle, the spec's files
    Busybox,   // the debug variants' busybox
    Base,      // a layer of a base image, reused as it is
    Archive,   // an upstream archive of a spec's `archives:` (archive_layer.hpp)
  };
  Kind kind = Kind::Entries;
  std::string key;  // digest of the inputs; the layer cache's key
  std::string created_by;
  std::string image;  // the first image that needs it (for messages)
  // Packages, Busybox: the packages in the layer. Top: every package of the
  // stage's chain (what ld.so.cache and the trust stores are made from).
  std::vector<InstalledPackage> packages;
  // Entries: the files. Top: the spec's own files (they win over generated ones).
  std::vector<GeneratedEntry> entries;
  std::string entries_fingerprint;  // Top: of `entries` (provenance.hpp)
  // Top only.
  std::string arch;
  bool system_files = false;                   // ld.so.cache and the Java trust store
  std::vector<LocalCertificate> certificates;  // regenerate the CA files with these
  // Nodes that must be finished first (a Top reads its chain's catalogs).
  std::vector<size_t> after;
  std::optional<oci::LayerBlob> blob;   // Base: the layer as it is
  std::optional<ArchiveInput> archive;  // Archive: what to unpack, and how
};

// One image of the request, for one architecture.
struct ArchPlan {
  std::string arch;
  std::vector<size_t> layers;  // node indices, bottom first
  std::vector<oci::HistoryEntry> history;
  oci::ImageConfig config;
  std::vector<InstalledPackage> packages;  // everything installed, sorted by name
  std::string provenance;                  // the manifest's record (provenance.hpp)
};

struct ImagePlan {
  std::string name;  // the image's name ({name})
  std::string spec;  // as requested: a file or a flavor
  Variant variant = Variant::Latest;
  std::string tag;
  std::string release;  // of the requested spec's stage
  std::vector<ArchPlan> archs;
  std::map<std::string, std::string> annotations;  // manifest annotations
  debian::LockFile lock;                           // what `distill lock` writes
  // Shared ownership of base images whose layer files the plan points at.
  std::vector<std::shared_ptr<const void>> keepalive;

  [[nodiscard]] std::string label() const;  // "NAME:TAG" for messages
};

struct BuildPlan {
  std::vector<LayerNode> nodes;
  std::vector<ImagePlan> images;
  // Every .deb an image needs, bases' first, largest first within a stage,
  // then the archives of `archives:`.
  std::vector<net::FetchItem> downloads;
};

// Who an image is, from its request and spec chain alone (no request made):
// name, tag and release as ImagePlan has them, and the architectures it is
// built for (--arch, else the spec's `archs:`, else the host's).
struct ImageIdentity {
  std::string name;
  std::string tag;
  std::string release;
  std::vector<std::string> archs;
};
ImageIdentity image_identity(const BuildRequest& request, const std::string& spec_name,
                             const SpecChain& chain, Variant variant);

// A spec as the request names it (in messages too), with its `from:` chain.
struct NamedChain {
  std::string name;
  SpecChain chain;
};

// The chain of every spec of the request, in order; an error names the spec.
Result<std::vector<NamedChain>> load_chains(const BuildRequest& request);

// The plan of chains already loaded: `build` loads them once for its output
// names and its plan; `distill update` rebuilds one from an image's provenance.
// `assemble` false: resolve only (what `distill lock` needs); no node is laid out.
Result<BuildPlan> plan_chains(const BuildRequest& request, const std::vector<NamedChain>& chains,
                              BuildEnv& env, bool assemble = true);

// load_chains, then plan_chains.
Result<BuildPlan> plan_build(const BuildRequest& request, BuildEnv& env, bool assemble = true);

// "debian12" for bookworm, "debian13" for trixie: distroless's image suffix.
std::string debian_tag(const std::string& release);

}  // namespace distill::image
