// A client for OCI distribution-spec v1 (Docker registry v2) registries: push
// and pull of images, with Bearer token and Basic authentication.
//
// Push: HEAD each blob (skip if present), else POST /blobs/uploads/ and a
// monolithic PUT <Location>?digest=; then PUT the manifests by digest and the
// top-level document by tag. Pull: GET the manifest (Accept: OCI and Docker
// index/manifest types), then every config and layer blob, verified as stored.
// Credentials: explicit user:password, else the auth file given, else
// $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
// $DOCKER_CONFIG/config.json, ~/.docker/config.json ("auths".<host>.auth).
// Referrers (distribution-spec v1.1): attach() pushes an artifact manifest with a
// subject and, when the registry has no referrers API (GET /v2/<name>/referrers/
// <digest> answers 404 and the manifest PUT carried no OCI-Subject header),
// read-modify-writes the image index tagged sha256-<subject hex>.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "crypto/sha256.hpp"
#include "net/http_client.hpp"
#include "oci/image.hpp"
#include "oci/image_reader.hpp"
#include "oci/image_ref.hpp"
#include "oci/manifest.hpp"
#include "oci/referrer.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct RegistryCredentials {
  std::string username;
  std::string password;
};

// "user:password" -> credentials; InvalidInput without a ':'.
Result<RegistryCredentials> parse_credentials(std::string_view text);

// Looks `registry` (host[:port]) up in a docker config.json / containers
// auth.json document. nullopt when absent.
Result<std::optional<RegistryCredentials>> credentials_from_auth_json(std::string_view json,
                                                                      const std::string& registry,
                                                                      const std::string& origin);

struct RegistryOptions {
  std::optional<RegistryCredentials> credentials;  // --creds U:P (wins)
  std::filesystem::path auth_file;                 // --authfile
  // Use plain http:// only (no TLS). Otherwise https, falling back to http when
  // tls_verify is false; loopback hosts (localhost, 127.x) try http first, then
  // https (docker treats them as insecure registries too).
  bool plain_http = false;
  bool tls_verify = true;
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

  // Pulls ref (a tag or digest; an index pulls every image manifest in it) into
  // a temporary directory held by LoadedImage::keepalive, verifying every blob.
  Result<LoadedImage> pull(const ImageRef& ref);

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
  Status push_blob_data(const ImageRef& ref, const Descriptor& descriptor, std::string_view data);
  Status push_manifest(const ImageRef& ref, const std::string& reference,
                       const std::string& media_type, const std::string& json);

 private:
  struct Session;
  Result<Session*> session_for(const ImageRef& ref);
  // PUT a manifest; returns the response (201/200) for its headers.
  Result<net::HttpResponse> put_manifest(const ImageRef& ref, const std::string& reference,
                                         const std::string& media_type, const std::string& json);

  net::HttpClient& m_http;
  RegistryOptions m_options;
  std::map<std::string, std::unique_ptr<Session>> m_sessions;  // by registry/repository
};

}  // namespace distill::oci
