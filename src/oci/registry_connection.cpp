#include "oci/registry_connection.hpp"

#include "oci/credentials.hpp"
#include "oci/source.hpp"

namespace distill::oci {

Status check_registry_settings(const RegistrySettings& settings) {
  if (!settings.credentials.empty()) {
    DISTILL_TRY(auto creds, parse_credentials(settings.credentials, "--dest-creds"));
    (void)creds;
  }
  return {};
}

Result<RegistryConnection> connect_registry(const RegistrySettings& settings) {
  RegistryOptions options;
  if (!settings.credentials.empty()) {
    DISTILL_TRY(auto creds, parse_credentials(settings.credentials, "--dest-creds"));
    options.credentials = creds;
  }
  options.auth_file = settings.auth_file;
  options.tls_verify = settings.tls_verify;
  net::TransferOptions transfer = transfer_options(options, settings.cert_dir);
  // A restarted blob upload waits and gives up as any other request does.
  options.upload_attempts = transfer.retries + 1;
  options.upload_backoff = transfer.initial_backoff;
  RegistryConnection connection;
  connection.http = net::make_curl_client(transfer);
  connection.client = std::make_unique<RegistryClient>(*connection.http, options);
  return connection;
}

}  // namespace distill::oci
