// Registry credentials and where they are found: one discovery order for every
// command (pull, push, copy, build outputs), the one skopeo and podman follow.
//
//   1. the command's flags (--creds, --src-creds, --dest-creds: USER:PASSWORD)
//   2. --authfile FILE, else $REGISTRY_AUTH_FILE, else
//      $XDG_RUNTIME_DIR/containers/auth.json (one of the three, as in
//      containers-auth.json(5))
//   3. $XDG_CONFIG_HOME/containers/auth.json (default ~/.config/containers/auth.json)
//   4. $DOCKER_CONFIG/config.json, else ~/.docker/config.json
//   5. ~/.dockercfg (docker's legacy file: the "auths" map alone)
//
// The first source that has an entry for the registry wins. In each file
// (docker config.json and containers auth.json share the format):
// "credHelpers".<host> names a helper, else "auths" holds the most specific
// key of host/namespace/repository, host/namespace, ..., host (what `podman
// login HOST/NS/REPO` writes; ~/.dockercfg: the host only), with "auth"
// (base64 USER:PASSWORD) or "username"/"password", else "credsStore" names a
// helper for every registry. A helper is the program docker-credential-NAME,
// run as `docker-credential-NAME get` with the server on stdin; it answers
// {"Username":...,"Secret":...} (docker-credential-helpers protocol).
// A file given with --authfile must exist; the others are skipped when absent.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::oci {

struct RegistryCredentials {
  std::string username;
  std::string password;
  // Where they came from, for messages ("--creds", a file, a helper); never the
  // password.
  std::string origin;
};

// "user:password" -> credentials (the password may hold ':'); InvalidInput
// without a ':' or with an empty user. The message never repeats the text.
Result<RegistryCredentials> parse_credentials(std::string_view text,
                                              const std::string& origin = "--creds");

// The formats of the auth files: docker config.json and containers auth.json
// ({"auths":{...},"credHelpers":{...},"credsStore":...}), or docker's legacy
// ~/.dockercfg (the "auths" map alone, keyed by host).
enum class AuthFileFormat { Config, Dockercfg };

// Reads one auth file's document for `repository` (its path, "ns/app") of
// `registry` (host[:port]; "docker.io" also matches the Docker Hub keys).
// Helpers named by the document are run through `run_helper`. nullopt when the
// document has no entry for them. Corrupt naming `origin` on a malformed
// document.
using CredentialHelper = std::function<Result<std::optional<RegistryCredentials>>(
    const std::string& helper, const std::string& server)>;
Result<std::optional<RegistryCredentials>> credentials_from_auth_json(
    std::string_view json, const std::string& registry, const std::string& repository,
    const std::string& origin, const CredentialHelper& run_helper = {},
    AuthFileFormat format = AuthFileFormat::Config);

// Runs docker-credential-HELPER get for `server`. nullopt when the helper has no
// credentials for it ("credentials not found"); an error when the helper is
// missing or fails otherwise.
Result<std::optional<RegistryCredentials>> run_credential_helper(const std::string& helper,
                                                                 const std::string& server);

struct CredentialOptions {
  std::optional<RegistryCredentials> explicit_credentials;  // the command's flag
  std::filesystem::path auth_file;                          // --authfile
  // Environment lookup (tests substitute it); empty: std::getenv.
  std::function<std::optional<std::string>(const char* name)> getenv;
  // Helper runner (tests substitute it); empty: run_credential_helper.
  CredentialHelper run_helper;
};

struct AuthFile {
  std::filesystem::path path;
  AuthFileFormat format = AuthFileFormat::Config;
};

// The auth files consulted after the explicit credentials, in order (only
// those whose variables are set; existence is not checked).
std::vector<AuthFile> auth_file_candidates(const CredentialOptions& options);

// The credentials for `repository` ("ns/app") of `registry` by the order
// above; nullopt = anonymous.
Result<std::optional<RegistryCredentials>> find_credentials(const std::string& registry,
                                                            const std::string& repository,
                                                            const CredentialOptions& options);

}  // namespace distill::oci
