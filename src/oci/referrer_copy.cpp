// Referrers carried by a copy: see referrer_copy.hpp.
#include "oci/referrer_copy.hpp"

#include <algorithm>
#include <deque>
#include <set>

#include "crypto/sha256.hpp"
#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "oci/blob_store.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/registry_client.hpp"
#include "util/file_io.hpp"

namespace distill::oci {

namespace {

// The most bytes of blobs one artifact may have to be carried by a copy.
constexpr uint64_t k_max_carried = uint64_t{256} << 20;

// The config and the layers of an artifact manifest.
std::vector<const Descriptor*> blobs_of(const Manifest& manifest) {
  std::vector<const Descriptor*> blobs{&manifest.config};
  for (const Descriptor& layer : manifest.layers) {
    blobs.push_back(&layer);
  }
  return blobs;
}

// The bytes of a blob, checked against its descriptor's size and digest.
Result<std::string> checked(std::string data, const Descriptor& blob, const std::string& origin) {
  if (data.size() != blob.size || crypto::sha256(data) != blob.digest) {
    return make_error(ErrorKind::Corrupt,
                      origin + ": blob " + blob.digest.str() + " does not match its descriptor");
  }
  return data;
}

std::string skip_line(const Descriptor& listed, const std::string& why) {
  return listed.digest.str() +
         (listed.artifact_type.empty() ? "" : " (" + listed.artifact_type + ")") + ": " + why;
}

// An artifact manifest a source lists for a subject, with its bytes ("" when
// the source lists it but does not have it).
struct Listed {
  Descriptor entry;
  std::string json;
};
using Lister = std::function<Result<std::vector<Listed>>(const Descriptor& subject)>;

// The referrers of `subjects`, and of those (a signature of an SBOM), in the
// order they can be attached: each after its subject.
Result<FoundReferrers> walk(const std::vector<Descriptor>& subjects, const Lister& list,
                            const BlobReader& read_blob) {
  FoundReferrers found;
  std::deque<Descriptor> pending(subjects.begin(), subjects.end());
  std::set<crypto::Digest> seen;
  while (!pending.empty()) {
    const Descriptor subject = pending.front();
    pending.pop_front();
    if (!seen.insert(subject.digest).second) {
      continue;
    }
    DISTILL_TRY(std::vector<Listed> listed, list(subject));
    for (const Listed& item : listed) {
      if (item.json.empty()) {
        found.skipped.push_back(skip_line(item.entry, "listed, but not there"));
        continue;
      }
      std::string why;
      DISTILL_TRY(auto referrer,
                  referrer_from_manifest(item.entry, item.json, subject, read_blob, why));
      if (!referrer) {
        found.skipped.push_back(skip_line(item.entry, why));
        continue;
      }
      pending.push_back(referrer->manifest);
      found.referrers.push_back(std::move(*referrer));
    }
  }
  return found;
}

Result<FoundReferrers> layout_referrers_of(const ImageRef& source,
                                           const std::vector<Descriptor>& subjects) {
  const std::string origin = source.to_string();
  DISTILL_TRY(BlobStore store, BlobStore::open(source.path / "blobs"));
  BlobReader read_blob = [&](const Descriptor& blob) -> Result<std::string> {
    DISTILL_TRY(std::string data, util::read_file(store.path_for(blob.digest)));
    return checked(std::move(data), blob, origin);
  };
  Lister list = [&](const Descriptor& subject) -> Result<std::vector<Listed>> {
    DISTILL_TRY(auto entries, layout_referrers(source.path, subject.digest));
    std::vector<Listed> listed;
    for (Descriptor& entry : entries) {
      DISTILL_TRY(std::string json, read_blob(entry));
      listed.push_back({std::move(entry), std::move(json)});
    }
    return listed;
  };
  return walk(subjects, list, read_blob);
}

Result<FoundReferrers> registry_referrers_of(const ImageRef& source,
                                             const std::vector<Descriptor>& subjects,
                                             const SourceOptions& options) {
  const std::string origin = source.to_string();
  auto http = net::make_curl_client(transfer_options(options.registry, options.cert_dir));
  RegistryOptions settings = options.registry;
  settings.upload_attempts = 1;  // reading only
  RegistryClient client(*http, settings);
  DISTILL_TRY(net::ContentCache cache,
              net::ContentCache::open(options.pull.cache_dir.empty() ? net::default_cache_dir()
                                                                     : options.pull.cache_dir));
  BlobReader read_blob = [&](const Descriptor& blob) -> Result<std::string> {
    net::FetchItem item;
    item.sha256 = blob.digest;
    item.size = blob.size;
    DISTILL_CHECK(client.fetch_blobs(source, cache, {item}, 1));
    DISTILL_TRY(std::string data, util::read_file(cache.path_for(blob.digest)));
    return checked(std::move(data), blob, origin);
  };
  Lister list = [&](const Descriptor& subject) -> Result<std::vector<Listed>> {
    DISTILL_TRY(Index index, client.list_referrers(source, subject.digest));
    std::vector<Listed> listed;
    for (Descriptor& entry : index.manifests) {
      DISTILL_TRY(auto fetched, client.get_manifest(source, entry.digest.str()));
      // One the registry lists but does not have has no bytes to copy.
      listed.push_back({std::move(entry), fetched ? std::move(fetched->json) : std::string()});
    }
    return listed;
  };
  return walk(subjects, list, read_blob);
}

}  // namespace

Result<std::optional<Referrer>> referrer_from_manifest(const Descriptor& listed,
                                                       const std::string& json,
                                                       const Descriptor& subject,
                                                       const BlobReader& read_blob,
                                                       std::string& why) {
  if (listed.media_type != k_media_oci_manifest) {
    why = "a " + listed.media_type + ", not an OCI image manifest";
    return std::optional<Referrer>();
  }
  if (crypto::sha256(json) != listed.digest || json.size() != listed.size) {
    return make_error(ErrorKind::Corrupt,
                      listed.digest.str() + ": the artifact manifest read is not those bytes");
  }
  DISTILL_TRY(Manifest manifest, Manifest::parse(json, listed.digest.str()));
  if (!manifest.subject || manifest.subject->digest != subject.digest) {
    why = "its subject is not " + subject.digest.str();
    return std::optional<Referrer>();
  }
  // Its blobs are held in memory until written: an artifact larger than a
  // copy carries (a whole file system attached as an artifact) stays behind.
  uint64_t total = 0;
  for (const Descriptor* blob : blobs_of(manifest)) {
    if (blob->size > k_max_carried - total) {
      why = "its blobs are more than the " + std::to_string(k_max_carried >> 20) +
            " MiB a copy carries";
      return std::optional<Referrer>();
    }
    total += blob->size;
  }
  Referrer referrer;
  referrer.subject = *manifest.subject;
  const Descriptor empty = empty_config_descriptor();
  if (manifest.config.digest == empty.digest && manifest.config.size == empty.size) {
    referrer.config = {manifest.config, std::string(k_empty_json)};
  } else {
    DISTILL_TRY(std::string config, read_blob(manifest.config));
    referrer.config = {manifest.config, std::move(config)};
  }
  for (const Descriptor& layer : manifest.layers) {
    // A blob listed again (the same file twice) is read once.
    auto same = [&](const ReferrerBlob& blob) {
      return blob.descriptor.digest == layer.digest && blob.descriptor.size == layer.size;
    };
    auto earlier = std::find_if(referrer.layers.begin(), referrer.layers.end(), same);
    if (earlier != referrer.layers.end() || same(referrer.config)) {
      ReferrerBlob again{layer,
                         earlier != referrer.layers.end() ? earlier->data : referrer.config.data};
      referrer.layers.push_back(std::move(again));
      continue;
    }
    DISTILL_TRY(std::string data, read_blob(layer));
    referrer.layers.push_back({layer, std::move(data)});
  }
  referrer.manifest_json = json;
  referrer.manifest = listed;
  return std::optional<Referrer>(std::move(referrer));
}

Result<FoundReferrers> find_referrers(const ImageRef& source,
                                      const std::vector<Descriptor>& subjects,
                                      const SourceOptions& options) {
  switch (source.transport) {
    case ImageRef::Transport::OciLayout:
      return layout_referrers_of(source, subjects);
    case ImageRef::Transport::Registry:
      return registry_referrers_of(source, subjects, options);
    case ImageRef::Transport::OciArchive:
    case ImageRef::Transport::DockerArchive:
      break;
  }
  return FoundReferrers{};
}

Status check_referrers_destination(const ImageRef& ref) {
  if (ref.transport == ImageRef::Transport::OciLayout ||
      ref.transport == ImageRef::Transport::Registry) {
    return {};
  }
  return make_error(ErrorKind::Unsupported, ref.to_string() +
                                                ": an archive holds no referrers; --referrers "
                                                "copies them into oci: layouts and registries");
}

std::vector<Descriptor> referrer_subjects(const LoadedImage& image) {
  std::vector<Descriptor> subjects;
  if (image.index_descriptor) {
    subjects.push_back(*image.index_descriptor);
  }
  for (const auto& manifest : image.manifests) {
    subjects.push_back(manifest.descriptor);
  }
  return subjects;
}

Status put_referrers(const ImageRef& destination, const std::vector<Referrer>& referrers,
                     const RegistrySettings& registry) {
  DISTILL_CHECK(check_referrers_destination(destination));
  if (referrers.empty()) {
    return {};
  }
  if (destination.transport == ImageRef::Transport::OciLayout) {
    return add_referrers_to_layout(destination.path, referrers);
  }
  DISTILL_TRY(RegistryConnection connection, connect_registry(registry));
  for (const auto& referrer : referrers) {
    DISTILL_CHECK(connection.client->attach(destination, referrer));
  }
  return {};
}

}  // namespace distill::oci
