#include "cli/source_flags.hpp"

#include "oci/credentials.hpp"

namespace distill::cli {

void add_source_flags(CLI::App* cmd, SourceFlags& flags) {
  cmd->add_option("--creds", flags.creds, "USER:PASSWORD for a docker:// image");
  cmd->add_option("--authfile", flags.auth_file, "registry credentials file");
  cmd->add_option("--tls-verify", flags.tls_verify, "verify registry TLS certificates")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--cert-dir", flags.cert_dir, "CA certificates for the registry");
}

Result<oci::SourceOptions> source_options(const SourceFlags& flags) {
  oci::SourceOptions options;
  if (!flags.creds.empty()) {
    DISTILL_TRY(options.registry.credentials, oci::parse_credentials(flags.creds, "--creds"));
  }
  options.registry.auth_file = flags.auth_file;
  options.registry.tls_verify = flags.tls_verify != "false";
  options.cert_dir = flags.cert_dir;
  return options;
}

}  // namespace distill::cli
