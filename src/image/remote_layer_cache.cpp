#include "image/remote_layer_cache.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/referrer.hpp"
#include "util/thread_pool.hpp"

namespace distill::image {

namespace {

bool is_layer_media_type(std::string_view type) {
  return type == oci::k_media_oci_layer_gzip || type == oci::k_media_oci_layer_zstd ||
         type == oci::k_media_oci_layer_tar;
}

std::optional<uint64_t> parse_size(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// Checks what the manifest says of a fetched blob that its digest cannot:
// the diff_id and size of the tar inside.
Status check_uncompressed(const CacheEntry& entry, const std::filesystem::path& file) {
  DISTILL_TRY(auto tar, archive::uncompressed_digest(file));
  if (tar.digest != entry.blob.diff_id || tar.size != entry.blob.uncompressed_size) {
    return make_error(ErrorKind::Corrupt, "blob " + entry.blob.descriptor.digest.str() +
                                              " does not hold the layer its entry names (diff_id " +
                                              tar.digest.str() + ")");
  }
  return {};
}

void warn(util::Progress& progress, const oci::ImageRef& ref, const std::string& what) {
  progress.warn("layer cache " + ref.to_string() + ": " + what);
}

}  // namespace

std::string layer_cache_manifest(const std::vector<CacheEntry>& entries) {
  oci::Manifest manifest;
  manifest.artifact_type = std::string(k_layer_cache_artifact);
  manifest.config = oci::empty_config_descriptor();
  for (const auto& entry : entries) {
    oci::Descriptor layer = entry.blob.descriptor;
    layer.annotations.clear();
    layer.platform.reset();
    layer.annotations[std::string(k_cache_key_annotation)] = entry.key;
    layer.annotations[std::string(k_cache_diff_id_annotation)] = entry.blob.diff_id.str();
    layer.annotations[std::string(k_cache_size_annotation)] =
        std::to_string(entry.blob.uncompressed_size);
    manifest.layers.push_back(std::move(layer));
  }
  return manifest.to_json();
}

Result<ParsedLayerCache> parse_layer_cache(std::string_view json, const std::string& origin) {
  DISTILL_TRY(std::string media_type, oci::sniff_media_type(json, origin));
  if (media_type != oci::k_media_oci_manifest) {
    return make_error(ErrorKind::InvalidInput,
                      origin + ": not a distill layer cache (mediaType \"" + media_type + "\")");
  }
  DISTILL_TRY(oci::Manifest manifest, oci::Manifest::parse(json, origin));
  if (manifest.artifact_type != k_layer_cache_artifact) {
    return make_error(ErrorKind::InvalidInput, origin +
                                                   ": not a distill layer cache (artifactType \"" +
                                                   manifest.artifact_type + "\", expected \"" +
                                                   std::string(k_layer_cache_artifact) + "\")");
  }
  ParsedLayerCache parsed;
  std::set<std::string> keys;
  for (const auto& layer : manifest.layers) {
    auto annotation = [&](std::string_view name) {
      auto found = layer.annotations.find(std::string(name));
      return found == layer.annotations.end() ? std::string() : found->second;
    };
    CacheEntry entry;
    entry.key = annotation(k_cache_key_annotation);
    auto diff_id = crypto::Digest::parse(annotation(k_cache_diff_id_annotation));
    auto size = parse_size(annotation(k_cache_size_annotation));
    if (entry.key.empty() || !diff_id.ok() || !size || !is_layer_media_type(layer.media_type) ||
        !keys.insert(entry.key).second) {
      ++parsed.skipped;
      continue;
    }
    entry.blob.descriptor = layer;
    entry.blob.descriptor.annotations.clear();
    entry.blob.diff_id = *diff_id;
    entry.blob.uncompressed_size = *size;
    parsed.entries.push_back(std::move(entry));
  }
  return parsed;
}

Result<oci::ImageRef> layer_cache_ref(const std::string& value, std::string_view flag) {
  auto usage = [&](const std::string& why) {
    return make_error(ErrorKind::InvalidInput,
                      "usage: " + std::string(flag) + " '" + value + "': " + why);
  };
  if (!value.starts_with("docker://")) {
    return usage("a layer cache lives in a registry: docker://HOST/REPOSITORY[:TAG]");
  }
  auto ref = oci::ImageRef::parse(value);
  if (!ref.ok()) {
    return usage(ref.error().message);
  }
  // ImageRef::parse reads a reference without a tag as ":latest"; a cache
  // reference means the cache's own tag then.
  if (ref->digest.empty() && !value.ends_with(":" + ref->tag)) {
    ref->tag = std::string(k_default_cache_tag);
  }
  return ref;
}

size_t import_layer_cache(oci::RegistryClient& client, const oci::ImageRef& ref,
                          const std::vector<std::string>& wanted, const LayerCache& local,
                          net::ContentCache& content, util::Progress& progress) {
  if (wanted.empty()) {
    return 0;
  }
  const std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  auto fetched = client.get_manifest(ref, reference);
  if (!fetched.ok()) {
    warn(progress, ref, fetched.error().message + "; building without it");
    return 0;
  }
  if (!*fetched) {
    progress.step("layer cache " + ref.to_string() + ": empty (no " + reference + " yet)");
    return 0;
  }
  auto parsed = parse_layer_cache((*fetched)->json, ref.to_string());
  if (!parsed.ok()) {
    warn(progress, ref, parsed.error().message + "; ignored");
    return 0;
  }
  if (parsed->skipped != 0) {
    warn(progress, ref, std::to_string(parsed->skipped) + " malformed entries ignored");
  }
  std::map<std::string, const CacheEntry*> listed;
  for (const auto& entry : parsed->entries) {
    listed.emplace(entry.key, &entry);
  }
  std::vector<const CacheEntry*> taking;
  std::vector<net::FetchItem> items;
  std::set<crypto::Digest> seen;
  for (const auto& key : wanted) {
    auto found = listed.find(key);
    if (found == listed.end()) {
      continue;
    }
    taking.push_back(found->second);
    const auto& descriptor = found->second->blob.descriptor;
    if (seen.insert(descriptor.digest).second) {
      net::FetchItem item;
      item.sha256 = descriptor.digest;
      item.size = descriptor.size;
      items.push_back(std::move(item));
    }
  }
  if (taking.empty()) {
    return 0;
  }
  // A blob that fails (damaged, gone) stops none of the others; each is
  // judged below by whether it reached the content cache.
  auto transfer = client.fetch_blobs(ref, content, items, 4);
  if (!transfer.ok()) {
    warn(progress, ref, transfer.error().message);
  }
  // Each blob that arrived is decompressed to check its diff_id, several at once.
  // A blob that did not arrive was warned about above.
  std::vector<std::optional<Status>> checks(taking.size());
  util::parallel_for(taking.size(), std::max(1U, std::thread::hardware_concurrency()),
                     [&](size_t i) {
                       const auto& digest = taking[i]->blob.descriptor.digest;
                       if (content.contains(digest)) {
                         checks[i] = check_uncompressed(*taking[i], content.path_for(digest));
                       }
                     });
  size_t taken = 0;
  for (size_t i = 0; i < taking.size(); ++i) {
    const CacheEntry* entry = taking[i];
    if (!checks[i]) {
      continue;
    }
    if (!checks[i]->ok()) {
      warn(progress, ref,
           "entry " + entry->key.substr(0, 12) + ": " + checks[i]->error().message + "; ignored");
      continue;
    }
    oci::LayerBlob blob = entry->blob;
    blob.file = content.path_for(entry->blob.descriptor.digest);
    if (auto adopted = local.adopt(entry->key, blob); !adopted.ok()) {
      warn(progress, ref, adopted.error().message);
      continue;
    }
    ++taken;
  }
  progress.step("layer cache " + ref.to_string() + ": " + std::to_string(taken) + " of " +
                std::to_string(wanted.size()) + " missing layers taken");
  return taken;
}

namespace {

// The tag's cache (`tag`, as read) merged with this build's entries (these
// first: the newest), or an error when the tag holds something that is not
// a distill layer cache.
struct MergedCache {
  std::string before;  // the tag's manifest, empty when there is none
  std::string json;    // the merged one
  size_t entries = 0;
  size_t missing = 0;  // entries of this build the tag lacks (of those a merge keeps)
};

Result<MergedCache> merge_into(const std::optional<oci::RegistryClient::FetchedManifest>& tag,
                               const std::vector<CacheEntry>& ours, const oci::ImageRef& ref) {
  MergedCache result;
  std::vector<CacheEntry> merged = ours;
  std::set<std::string> keys;
  for (const auto& entry : ours) {
    keys.insert(entry.key);
  }
  std::set<std::string> listed;
  if (tag) {
    result.before = tag->json;
    auto parsed = parse_layer_cache(tag->json, ref.to_string());
    if (!parsed.ok()) {
      // Never overwrite what is not ours.
      return make_error(ErrorKind::InvalidInput,
                        parsed.error().message + "; --cache-to will not replace it");
    }
    for (auto& entry : parsed->entries) {
      listed.insert(entry.key);
      if (keys.insert(entry.key).second) {
        merged.push_back(std::move(entry));
      }
    }
  }
  if (merged.size() > k_max_entries) {
    merged.resize(k_max_entries);  // the oldest entries go first
  }
  const size_t kept_ours = std::min(ours.size(), k_max_entries);
  result.missing = static_cast<size_t>(
      std::count_if(ours.begin(), ours.begin() + static_cast<std::ptrdiff_t>(kept_ours),
                    [&](const CacheEntry& e) { return listed.count(e.key) == 0; }));
  result.entries = merged.size();
  result.json = layer_cache_manifest(merged);
  return result;
}

// Rounds of read, merge, write and read back before export_layer_cache gives up.
constexpr int k_export_rounds = 5;

}  // namespace

Status export_layer_cache(oci::RegistryClient& client, const oci::ImageRef& ref,
                          const std::vector<CacheEntry>& entries, util::Progress& progress) {
  std::vector<CacheEntry> ours;
  std::set<std::string> keys;
  std::vector<std::pair<oci::Descriptor, std::filesystem::path>> blobs;
  for (const auto& entry : entries) {
    if (keys.insert(entry.key).second) {
      ours.push_back(entry);
      blobs.emplace_back(entry.blob.descriptor, entry.blob.file);
    }
  }
  DISTILL_TRY(auto tag, client.get_manifest(ref, ref.tag));
  DISTILL_TRY(auto merged, merge_into(tag, ours, ref));
  if (merged.json == merged.before) {
    progress.step("layer cache " + ref.to_string() + ": up to date (" +
                  std::to_string(merged.entries) + " entries)");
    return {};
  }
  // The blobs, then the manifest naming them: the tag never lists a missing blob.
  DISTILL_CHECK(client.push_blobs(ref, blobs));
  DISTILL_CHECK(client.push_blob_data(ref, oci::empty_config_descriptor(), oci::k_empty_json));
  // A registry has no compare-and-swap for a tag: another build exporting to
  // it between this one's read and its write loses its new entries. So the
  // tag is read again once the blobs are up (they take the time), just
  // before the write, and read back after it: when the entries of this build
  // are gone (a build that read before this write wrote after it), what was
  // read back is merged and written again. Each writer checks its own
  // entries, so two builds exporting at once both end up listed unless their
  // write-and-check overlap to the millisecond.
  DISTILL_TRY(tag, client.get_manifest(ref, ref.tag));
  DISTILL_TRY(merged, merge_into(tag, ours, ref));
  for (int round = 1;; ++round) {
    if (merged.json != merged.before) {
      DISTILL_CHECK(
          client.push_manifest(ref, ref.tag, std::string(oci::k_media_oci_manifest), merged.json));
    }
    DISTILL_TRY(tag, client.get_manifest(ref, ref.tag));
    DISTILL_TRY(merged, merge_into(tag, ours, ref));
    if (merged.missing == 0) {
      break;
    }
    if (round == k_export_rounds) {
      return make_error(ErrorKind::Io, ref.to_string() + ": " + std::to_string(merged.missing) +
                                           " of " + std::to_string(ours.size()) +
                                           " entries of this build were replaced by other "
                                           "writers of the tag " +
                                           std::to_string(k_export_rounds) + " times in a row");
    }
  }
  progress.step("layer cache " + ref.to_string() + ": " + std::to_string(merged.entries) +
                " entries (" + std::to_string(entries.size()) + " from this build)");
  return {};
}

}  // namespace distill::image
