// A registry client made from the settings a command line gives for docker://
// destinations (`build -o`, `copy`, `build --sbom`): credentials, auth file,
// TLS. The HTTP client is made here, below the image layer.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "net/http_client.hpp"
#include "oci/registry_client.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct RegistrySettings {
  std::string credentials;          // USER:PASSWORD (--dest-creds)
  std::filesystem::path auth_file;  // --authfile
  bool tls_verify = true;           // --tls-verify=false
  std::filesystem::path cert_dir;   // --cert-dir
};

// A registry client set up from the settings, with the HTTP client it uses.
struct RegistryConnection {
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<RegistryClient> client;
};
Result<RegistryConnection> connect_registry(const RegistrySettings& settings);

// The settings' usage errors (a malformed --dest-creds), for a command to
// report before it does any work.
Status check_registry_settings(const RegistrySettings& settings);

}  // namespace distill::oci
