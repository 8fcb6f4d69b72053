// Referrers carried by a copy: see referrer_copy.hpp.
#include "oci/referrer_copy.hpp"

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

Result<FoundReferrers> layout_referrers_of(const ImageRef& source,
                                           const std::vector<Descriptor>& subjects) {
  const std::string origin = source.to_string();
  DISTILL_TRY(BlobStore store, BlobStore::open(source.path / "blobs"));
  BlobReader read_blob = [&](const Descriptor& blob) -> Result<std::string> {
    DISTILL_TRY(std::string data, util::read_file(store.path_for(blob.digest)));
    return checked(std::move(data), blob, origin);
  };
  FoundReferrers found;
  for (const Descriptor& subject : subjects) {
    DISTILL_TRY(auto listed, layout_referrers(source.path, subject.digest));
    for (const Descriptor& entry : listed) {
      DISTILL_TRY(std::string json, read_blob(entry));
      std::string why;
      DISTILL_TRY(auto referrer, referrer_from_manifest(entry, json, subject, read_blob, why));
      if (referrer) {
        found.referrers.push_back(std::move(*referrer));
      } else {
        found.skipped.push_back(skip_line(entry, why));
      }
    }
  }
  return found;
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
  FoundReferrers found;
  for (const Descriptor& subject : subjects) {
    DISTILL_TRY(Index listed, client.list_referrers(source, subject.digest));
    for (const Descriptor& entry : listed.manifests) {
      DISTILL_TRY(auto fetched, client.get_manifest(source, entry.digest.str()));
      if (!fetched) {
        found.skipped.push_back(skip_line(entry, "listed, but the registry does not have it"));
        continue;
      }
      std::string why;
      DISTILL_TRY(auto referrer,
                  referrer_from_manifest(entry, fetched->json, subject, read_blob, why));
      if (referrer) {
        found.referrers.push_back(std::move(*referrer));
      } else {
        found.skipped.push_back(skip_line(entry, why));
      }
    }
  }
  return found;
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
  const Descriptor empty = empty_config_descriptor();
  if (manifest.config.digest != empty.digest || manifest.config.size != empty.size) {
    why = "a config of its own";
    return std::optional<Referrer>();
  }
  if (manifest.layers.size() != 1) {
    why = std::to_string(manifest.layers.size()) + " layers, not one";
    return std::optional<Referrer>();
  }
  Referrer referrer;
  referrer.subject = *manifest.subject;
  referrer.config = manifest.config;
  referrer.layer = manifest.layers.front();
  DISTILL_TRY(referrer.data, read_blob(referrer.layer));
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

}  // namespace distill::oci
