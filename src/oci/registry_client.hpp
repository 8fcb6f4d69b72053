// A client for OCI distribution-spec v1 (Docker registry v2) registries: push
// and pull of images, with Bearer token and Basic authentication.
//
// Push: HEAD each blob (skip if present), else POST /blobs/uploads/ and a
// monolithic PUT <Location>?digest=; then PUT the manifests by digest and the
// top-level document by tag, last, so a failed push never leaves the tag on a
// manifest whose blobs are missing. An upload whose PUT is cut (connection
// reset, lost reply) or answered 429/5xx starts over from the HEAD (the
// registry may have the blob after all) with a new upload session, with the
// HTTP client's backoff and attempt limit; Retry-After is honoured.
// Pull: GET the manifest (Accept: OCI and Docker index/manifest types); of an
// index only the manifests of the wanted platform; then their config and
// layer blobs into the content-addressed cache (net::ContentCache), verified
// while they stream; blobs already there are not fetched again.
// Credentials: found by find_credentials (credentials.hpp). A credential the
// registry refuses is reported naming the user and the registry, never the
// password; one it accepts without the access asked for (a token without the
// scope, a 403) as access denied, naming the repository and the action too.
// A token that expires during a pull's blob downloads is renewed once for all
// of them.
// Referrers (distribution-spec v1.1): attach() pushes an artifact manifest with a
// subject and, when the registry has no referrers API (GET /v2/<name>/referrers/
// <digest> answers 404 and the manifest PUT carried no OCI-Subject header),
// read-modify-writes the image index tagged sha256-<subject hex>.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "crypto/sha256.hpp"
#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "oci/credentials.hpp"
#include "oci/image.hpp"
#include "oci/image_reader.hpp"
#include "oci/image_ref.hpp"
#include "oci/manifest.hpp"
#include "oci/referrer.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct RegistryOptions {
  std::optional<RegistryCredentials> credentials;  // --creds U:P (wins)
  std::filesystem::path auth_file;                 // --authfile
  // Test seams for the discovery (environment, helpers); empty: the real ones.
  CredentialOptions lookup;
  // Use plain http:// only (no TLS). Otherwise https, falling back to http when
  // tls_verify is false; loopback hosts (localhost, 127.x) try http first, then
  // https (docker treats them as insecure registries too).
  bool plain_http = false;
  bool tls_verify = true;
  // A blob upload cut short is started again up to this many times in all,
  // waiting upload_backoff, doubled each time (net::TransferOptions' policy).
  int upload_attempts = 5;
  std::chrono::milliseconds upload_backoff{200};
  // Layer blobs uploaded at once by push(const Image&).
  unsigned upload_jobs = 4;
};

struct PullOptions {
  // Of an index, only the manifest(s) for this platform (architecture, and the
  // variant when both name one); NotFound listing the index's platforms when
  // none matches. nullopt: every image manifest.
  std::optional<Platform> platform;
  // The content cache the blobs go to; empty: net::default_cache_dir().
  std::filesystem::path cache_dir;
  unsigned jobs = 4;  // blob transfers at once
  // A tag resolved (by this cache) less than this long ago is taken as still
  // pointing where it did: with its manifests and blobs cached, no request at
  // all. 0 (the default): a tag is always asked for. A digest reference never
  // needs a request once cached.
  std::chrono::seconds tag_fresh_for{0};
};

// What a push sent, for progress and for checking that a repeat push uploads
// nothing.
struct PushStats {
  uint64_t blobs_uploaded = 0;
  uint64_t blob_bytes_uploaded = 0;
  uint64_t blobs_present = 0;  // HEAD said the registry had them
  uint64_t upload_restarts = 0;
};

class RegistryClient {
 public:
  // `http` must outlive the client. Its TLS options (verify, cert dir) apply.
  RegistryClient(net::HttpClient& http, RegistryOptions options);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // Pushes a finalize()d image: blobs, each platform manifest by digest, then the
  // image index under ref.tag (or by digest when the ref has none). Returns the
  // digest of the index.
  Result<crypto::Digest> push(const Image& image, const ImageRef& ref);

  // Pushes an image read by load_image or pull (for `copy`), keeping its
  // manifests' bytes (so digests are preserved). Returns the top-level digest.
  Result<crypto::Digest> push(const LoadedImage& image, const ImageRef& ref);

  // Pulls ref (a tag or digest; of an index, the image manifests options.platform
  // selects): manifests into memory, config and layer blobs into the content
  // cache, each verified (size and sha256) while it streams; the manifests are
  // cached too. The result's layer_files are cache paths (the blobs' exact
  // bytes); LoadedManifest::descriptor.digest is the manifest digest and
  // LoadedImage::index_descriptor the index's, if any (the digest the tag
  // named is index_descriptor's, else the single manifest's).
  Result<LoadedImage> pull(const ImageRef& ref, const PullOptions& options = {});

  // Fetches blobs of ref's repository into `cache`, up to `jobs` at once, each
  // verified (size and sha256) while it streams; those already cached cost no
  // request. An item's urls are filled in here (its label too, when empty).
  Status fetch_blobs(const ImageRef& ref, net::ContentCache& cache,
                     std::vector<net::FetchItem> items, unsigned jobs);

  [[nodiscard]] const PushStats& push_stats() const { return m_stats; }

  // How a registry lists the referrers of a manifest.
  enum class ReferrersListing { Api, FallbackTag };

  // Pushes the referrer's blobs (empty config, layer) and its manifest by digest,
  // then makes it discoverable: nothing more when the registry has the referrers
  // API, else adds it (once) to the index tagged referrers_tag(subject). The
  // subject must already be in the repository.
  Result<ReferrersListing> attach(const ImageRef& ref, const Referrer& referrer);

  // GET /v2/<name>/referrers/<digest>: the referrers index, or nullopt when the
  // registry has no referrers API (404; also 405 and 501).
  Result<std::optional<Index>> get_referrers(const ImageRef& ref, const crypto::Digest& subject);

  // The referrers of `subject`: the API's answer, else the fallback tag's index
  // (empty when the tag does not exist).
  Result<Index> list_referrers(const ImageRef& ref, const crypto::Digest& subject);

  struct FetchedManifest {
    std::string media_type;  // from the document, else the Content-Type header
    std::string json;
  };
  // GET /v2/<name>/manifests/<reference> (tag or digest; a digest is verified).
  // nullopt on 404.
  Result<std::optional<FetchedManifest>> get_manifest(const ImageRef& ref,
                                                      const std::string& reference);

  // Lower-level steps, used by the above.
  Status push_blob(const ImageRef& ref, const Descriptor& descriptor,
                   const std::filesystem::path& file);
  // Several blobs, each digest once, up to RegistryOptions::upload_jobs at once;
  // the first error in order is returned (after every upload has ended).
  Status push_blobs(const ImageRef& ref,
                    const std::vector<std::pair<Descriptor, std::filesystem::path>>& blobs);
  Status push_blob_data(const ImageRef& ref, const Descriptor& descriptor, std::string_view data);
  Status push_manifest(const ImageRef& ref, const std::string& reference,
                       const std::string& media_type, const std::string& json);

 private:
  struct Session;
  Result<Session*> session_for(const ImageRef& ref);
  struct UploadTry;
  Result<UploadTry> upload_once(Session& session, const std::string& what,
                                const Descriptor& descriptor, const std::filesystem::path& file);
  // PUT a manifest; returns the response (201/200) for its headers.
  Result<net::HttpResponse> put_manifest(const ImageRef& ref, const std::string& reference,
                                         const std::string& media_type, const std::string& json);

  net::HttpClient& m_http;
  RegistryOptions m_options;
  std::map<std::string, std::unique_ptr<Session>> m_sessions;  // by registry/repository
  PushStats m_stats;
  std::mutex m_stats_mutex;
};

}  // namespace distill::oci
