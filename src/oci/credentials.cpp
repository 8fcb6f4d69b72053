// Registry credentials: parsing, auth files, credential helpers and the
// discovery order (see credentials.hpp).
#include "oci/credentials.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "oci/base64.hpp"
#include "oci/json_util.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"

namespace distill::oci {

namespace {

// The keys a registry may be stored under in an auth file.
std::vector<std::string> registry_keys(const std::string& registry) {
  std::vector<std::string> keys = {registry, "https://" + registry, "http://" + registry,
                                   "https://" + registry + "/v1/", "https://" + registry + "/v2/"};
  if (registry == "docker.io") {
    keys.emplace_back("https://index.docker.io/v1/");
    keys.emplace_back("index.docker.io");
    keys.emplace_back("registry-1.docker.io");
  }
  return keys;
}

// The "auths" keys for a repository, most specific first (containers-auth.json(5)):
// host/ns/app, host/ns, then the registry's own keys.
std::vector<std::string> repository_keys(const std::string& registry,
                                         const std::string& repository) {
  std::vector<std::string> keys;
  std::string path = repository;
  while (!path.empty()) {
    keys.push_back(registry + "/" + path);
    size_t slash = path.rfind('/');
    path = slash == std::string::npos ? std::string() : path.substr(0, slash);
  }
  for (auto& key : registry_keys(registry)) {
    keys.push_back(std::move(key));
  }
  return keys;
}

// The server name a credential helper is asked about (what `docker login` stored).
std::string helper_server(const std::string& registry) {
  return registry == "docker.io" ? "https://index.docker.io/v1/" : registry;
}

std::optional<std::string> process_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

Result<std::optional<RegistryCredentials>> from_helper(const CredentialHelper& run_helper,
                                                       const std::string& helper,
                                                       const std::string& registry,
                                                       const std::string& origin) {
  if (helper.empty()) {
    return std::optional<RegistryCredentials>();
  }
  auto found = run_helper ? run_helper(helper, helper_server(registry))
                          : run_credential_helper(helper, helper_server(registry));
  if (!found.ok()) {
    return found.error().context(origin);
  }
  return found;
}

}  // namespace

Result<RegistryCredentials> parse_credentials(std::string_view text, const std::string& origin) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error(ErrorKind::InvalidInput, "usage: " + origin + " must be USER:PASSWORD");
  }
  return RegistryCredentials{std::string(text.substr(0, colon)),
                             std::string(text.substr(colon + 1)), origin};
}

Result<std::optional<RegistryCredentials>> credentials_from_auth_json(
    std::string_view json, const std::string& registry, const std::string& repository,
    const std::string& origin, const CredentialHelper& run_helper, AuthFileFormat format) {
  DISTILL_TRY(nlohmann::json document, detail::parse_object(json, origin));
  if (format == AuthFileFormat::Dockercfg) {
    document = nlohmann::json{{"auths", std::move(document)}};
  }
  std::vector<std::string> keys = format == AuthFileFormat::Dockercfg
                                      ? registry_keys(registry)
                                      : repository_keys(registry, repository);

  auto helpers = document.find("credHelpers");
  if (helpers != document.end() && helpers->is_object()) {
    for (const auto& key : registry_keys(registry)) {
      auto entry = helpers->find(key);
      if (entry != helpers->end() && entry->is_string()) {
        return from_helper(run_helper, entry->get<std::string>(), registry,
                           origin + ": credHelpers." + key);
      }
    }
  }

  auto auths = document.find("auths");
  if (auths != document.end() && auths->is_object()) {
    for (const auto& key : keys) {
      auto entry = auths->find(key);
      if (entry == auths->end() || !entry->is_object()) {
        continue;
      }
      DISTILL_TRY(std::string auth, detail::get_string(*entry, "auth", origin));
      if (!auth.empty()) {
        auto decoded = base64_decode(auth);
        if (!decoded) {
          return detail::corrupt(origin, "auths." + key + ".auth is not base64");
        }
        auto credentials = parse_credentials(*decoded, origin);
        if (!credentials.ok()) {
          return detail::corrupt(origin, "auths." + key + ".auth is not base64 of USER:PASSWORD");
        }
        return std::optional<RegistryCredentials>(*credentials);
      }
      DISTILL_TRY(std::string user, detail::get_string(*entry, "username", origin));
      DISTILL_TRY(std::string password, detail::get_string(*entry, "password", origin));
      if (!user.empty()) {
        return std::optional<RegistryCredentials>(RegistryCredentials{user, password, origin});
      }
      // An empty entry is what `docker login` leaves when a credsStore holds
      // the secret: fall through to the store.
    }
  }

  DISTILL_TRY(std::string store, detail::get_string(document, "credsStore", origin));
  return from_helper(run_helper, store, registry, origin + ": credsStore");
}

Result<std::optional<RegistryCredentials>> run_credential_helper(const std::string& helper,
                                                                 const std::string& server) {
  std::string program = "docker-credential-" + helper;
  if (helper.find('/') != std::string::npos || util::find_program(program).empty()) {
    return make_error(ErrorKind::NotFound, "credential helper " + program + " is not installed");
  }
  util::Command command;
  command.argv = {program, "get"};
  command.stdin_data = server;
  DISTILL_TRY(util::CommandResult result, util::run_command(command));
  if (result.exit_code != 0) {
    std::string said = result.stdout_data + result.stderr_data;
    if (said.find("credentials not found") != std::string::npos) {
      return std::optional<RegistryCredentials>();
    }
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) {
      said.pop_back();
    }
    return make_error(ErrorKind::InvalidInput,
                      program + " get " + server + ": exit " + std::to_string(result.exit_code) +
                          (said.empty() ? "" : ": " + said.substr(0, 200)));
  }
  DISTILL_TRY(nlohmann::json answer, detail::parse_object(result.stdout_data, program));
  DISTILL_TRY(std::string user, detail::get_string(answer, "Username", program));
  DISTILL_TRY(std::string secret, detail::get_string(answer, "Secret", program));
  if (user.empty() || user == "<token>") {
    // "<token>" is an identity token for an OAuth2 refresh flow, not a password.
    return make_error(ErrorKind::Unsupported,
                      program + ": identity tokens are not supported, only USER/PASSWORD");
  }
  return std::optional<RegistryCredentials>(RegistryCredentials{user, secret, program});
}

std::vector<AuthFile> auth_file_candidates(const CredentialOptions& options) {
  auto env = [&](const char* name) {
    return options.getenv ? options.getenv(name) : process_env(name);
  };
  std::vector<AuthFile> files;
  std::optional<std::string> home = env("HOME");
  // One of --authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR's: the file
  // `podman login` writes to.
  if (!options.auth_file.empty()) {
    files.push_back({options.auth_file});
  } else if (auto named = env("REGISTRY_AUTH_FILE")) {
    files.push_back({*named});
  } else if (auto runtime = env("XDG_RUNTIME_DIR")) {
    files.push_back({std::filesystem::path(*runtime) / "containers" / "auth.json"});
  }
  if (auto config = env("XDG_CONFIG_HOME")) {
    files.push_back({std::filesystem::path(*config) / "containers" / "auth.json"});
  } else if (home) {
    files.push_back({std::filesystem::path(*home) / ".config" / "containers" / "auth.json"});
  }
  if (auto value = env("DOCKER_CONFIG")) {
    files.push_back({std::filesystem::path(*value) / "config.json"});
  } else if (home) {
    files.push_back({std::filesystem::path(*home) / ".docker" / "config.json"});
  }
  if (home) {
    files.push_back({std::filesystem::path(*home) / ".dockercfg", AuthFileFormat::Dockercfg});
  }
  return files;
}

Result<std::optional<RegistryCredentials>> find_credentials(const std::string& registry,
                                                            const std::string& repository,
                                                            const CredentialOptions& options) {
  if (options.explicit_credentials) {
    return options.explicit_credentials;
  }
  for (const auto& file : auth_file_candidates(options)) {
    auto text = util::read_file(file.path);
    if (!text.ok()) {
      if (file.path == options.auth_file) {
        return text.error().context("--authfile");
      }
      continue;
    }
    DISTILL_TRY(auto credentials,
                credentials_from_auth_json(*text, registry, repository, file.path.string(),
                                           options.run_helper, file.format));
    if (credentials) {
      return credentials;
    }
  }
  return std::optional<RegistryCredentials>();
}

}  // namespace distill::oci
