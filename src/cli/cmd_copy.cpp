// distill copy SRC DST: copies an image between transports (oci:, oci-archive:,
// docker-archive:, docker://), keeping its manifests byte for byte.
#include "check/image_view.hpp"
#include "cli/command.hpp"
#include "image/outputs.hpp"

namespace distill::cli {

CommandRunner register_copy(CLI::App& app) {
  auto* cmd = app.add_subcommand("copy", "copy an image from one reference to another");
  struct Options {
    std::string source;
    std::string destination;
    std::string src_creds;
    image::RegistrySettings registry;
    std::string tls_verify = "true";
    std::string progress = "auto";
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("SRC", o->source, "source image reference")->required();
  cmd->add_option("DST", o->destination, "destination image reference")->required();
  cmd->add_option("--src-creds", o->src_creds, "USER:PASSWORD for a docker:// source");
  cmd->add_option("--dest-creds", o->registry.credentials,
                  "USER:PASSWORD for a docker:// destination");
  cmd->add_option("--authfile", o->registry.auth_file, "registry credentials file");
  cmd->add_option("--tls-verify", o->tls_verify, "verify registry TLS certificates")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--cert-dir", o->registry.cert_dir, "CA certificates for the registry");
  cmd->add_option("--progress", o->progress, "auto|plain|none");
  return [o]() -> Result<int> {
    util::Progress progress(parse_progress_mode(o->progress));
    o->registry.tls_verify = o->tls_verify != "false";
    DISTILL_TRY(auto loaded, check::load_reference(o->source));
    DISTILL_TRY(auto image, image::image_from_loaded(loaded));
    std::string name = "image";
    std::string tag = "latest";
    DISTILL_TRY(auto written,
                image::write_outputs(image, {o->destination}, {name, tag}, o->registry, progress));
    (void)written;
    return k_exit_ok;
  };
}

}  // namespace distill::cli
