// Registry credentials and where they are found: one discovery order for every
// command (pull, push, copy, build outputs), the one skopeo and podman follow.
//
//   1. the command's flags (--creds, --src-creds, --dest-creds: USER:PASSWORD)
//   2. --authfile FILE
//   3. $REGISTRY_AUTH_FILE
//   4. $XDG_RUNTIME_DIR/containers/auth.json
//   5. $DOCKER_CONFIG/config.json, else ~/.docker/config.json
//
// The first source that has an entry for the registry wins. In each file
// (docker config.json and containers auth.json share the format):
// "credHelpers".<host> names a helper, else "auths".<host> holds "auth"
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

// Reads one docker config.json / containers auth.json document for `registry`
// (host[:port]; "docker.io" also matches the Docker Hub keys). Helpers named by
// the document are run through `run_helper`. nullopt when the document has no
// entry for the registry. Corrupt naming `origin` on a malformed document.
using CredentialHelper = std::function<Result<std::optional<RegistryCredentials>>(
    const std::string& helper, const std::string& server)>;
Result<std::optional<RegistryCredentials>> credentials_from_auth_json(
    std::string_view json, const std::string& registry, const std::string& origin,
    const CredentialHelper& run_helper = {});

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

// The auth files consulted after the explicit credentials, in order (only
// those whose variables are set; existence is not checked).
std::vector<std::filesystem::path> auth_file_candidates(const CredentialOptions& options);

// The credentials for `registry` by the order above; nullopt = anonymous.
Result<std::optional<RegistryCredentials>> find_credentials(const std::string& registry,
                                                            const CredentialOptions& options);

}  // namespace distill::oci
