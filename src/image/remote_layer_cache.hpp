// The layer cache (layer_cache.hpp) shared through an OCI registry, so that
// machines that never built an image (CI runners, a colleague's laptop) take
// its layers instead of downloading .debs and compressing them again.
//
// `build --cache-to docker://REG/REPO[:TAG]` pushes the layer blobs a build
// used and one artifact manifest listing them (docs/formats/layer-cache.md):
// artifactType application/vnd.distill.layer-cache.v1, the empty config, one
// layer descriptor per cache entry carrying the entry's key, diff_id and
// uncompressed size as annotations. The manifest is merged with the one
// already under the tag (this build's entries first, at most k_max_entries),
// and pushed after every blob it names, so the tag never lists a missing blob.
//
// `build --cache-from docker://REG/REPO[:TAG|@DIGEST]` reads that manifest
// (one request) and, for each layer the local cache lacks and the manifest
// lists, fetches the blob (size and sha256 checked while it streams), checks
// its diff_id and uncompressed size by decompressing it, and records it in the
// local cache. A blob that fails a check, or a manifest that is not a distill
// layer cache, is reported and ignored: the layer is built as without a cache.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "image/layer_cache.hpp"
#include "net/content_cache.hpp"
#include "oci/image.hpp"
#include "oci/image_ref.hpp"
#include "oci/registry_client.hpp"
#include "util/progress.hpp"
#include "util/result.hpp"

namespace distill::image {

inline constexpr std::string_view k_layer_cache_artifact = "application/vnd.distill.layer-cache.v1";
inline constexpr std::string_view k_cache_key_annotation = "dev.distill.layer-cache.key";
inline constexpr std::string_view k_cache_diff_id_annotation = "dev.distill.layer-cache.diff-id";
inline constexpr std::string_view k_cache_size_annotation =
    "dev.distill.layer-cache.uncompressed-size";
// The tag a --cache-to/--cache-from reference without one means.
inline constexpr std::string_view k_default_cache_tag = "distill-layer-cache";
// Entries one manifest keeps (a registry refuses manifests over a few MiB;
// each entry takes about 450 bytes).
inline constexpr size_t k_max_entries = 4000;

struct CacheEntry {
  std::string key;      // LayerKey::hex()
  oci::LayerBlob blob;  // descriptor (media type, digest, size), diff_id, size
};

// The cache manifest listing `entries` in order (compact, deterministic JSON).
std::string layer_cache_manifest(const std::vector<CacheEntry>& entries);

// The entries of a cache manifest. InvalidInput when the document is not a
// distill layer cache; an entry lacking a key, diff_id or size, or of another
// media type than a layer's, is left out and counted.
struct ParsedLayerCache {
  std::vector<CacheEntry> entries;
  size_t skipped = 0;
};
Result<ParsedLayerCache> parse_layer_cache(std::string_view json, const std::string& origin);

// What --cache-to/--cache-from name: a docker:// reference, with
// k_default_cache_tag when it has neither tag nor digest. `flag` names the
// option in the usage error.
Result<oci::ImageRef> layer_cache_ref(const std::string& value, std::string_view flag);

// Takes from the registry's cache at `ref` every layer of `wanted` (keys) it
// lists, into `local` (blobs pass through `content`). Returns how many were
// taken. Everything that goes wrong (the registry unreachable, a refused
// credential, a foreign document, a blob that fails a check) is a warning
// through `progress`: the build goes on and makes those layers itself.
size_t import_layer_cache(oci::RegistryClient& client, const oci::ImageRef& ref,
                          const std::vector<std::string>& wanted, const LayerCache& local,
                          net::ContentCache& content, util::Progress& progress);

// Pushes `entries` (each key once; blobs from the local cache) to the
// registry's cache at `ref`, merged with the entries it already lists.
Status export_layer_cache(oci::RegistryClient& client, const oci::ImageRef& ref,
                          const std::vector<CacheEntry>& entries, util::Progress& progress);

}  // namespace distill::image
