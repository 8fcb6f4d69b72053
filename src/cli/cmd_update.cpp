// distill update REF -o OUT [--lock-out FILE] [--keyring FILE]... [--sbom]: the
// image with its packages brought to the newest ones of its sources, from its
// own provenance (image/update.hpp), with an SBOM attached as `build --sbom`
// attaches it.
#include <cstdio>
#include <cstdlib>

#include "cli/build_options.hpp"
#include "cli/command.hpp"
#include "cli/sbom_flags.hpp"
#include "image/update.hpp"
#include "oci/registry_connection.hpp"
#include "util/interrupt.hpp"

namespace distill::cli {

CommandRunner register_update(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "update", "bring an image distill built to the newest packages of its sources");
  auto options = std::make_shared<BuildOptions>();
  auto request = std::make_shared<image::UpdateRequest>();
  auto lock_out = std::make_shared<std::string>();
  auto keyrings = std::make_shared<std::vector<std::string>>();
  auto tls_verify = std::make_shared<std::string>("true");
  cmd->add_option("REF", request->image, "the image to update (oci:, oci-archive:, docker://)")
      ->required();
  cmd->add_option("-o,--output", request->outputs,
                  "output reference (oci:, oci-archive:, docker-archive:, docker://)")
      ->required();
  cmd->add_option("--lock-out", *lock_out, "write the lock of the updated image to FILE");
  auto only = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--only", *only,
                  "move only these packages (comma-separated); the others keep their versions");
  cmd->add_option("--keyring", *keyrings,
                  "keyring file a source of the image's spec named (matched by content)");
  options->declare_session(*cmd, false);
  auto sbom = std::make_shared<SbomFlags>();
  sbom->declare(*cmd);
  cmd->add_option("-j,--jobs", options->jobs, "parallel downloads and layers (default: CPUs)");
  cmd->add_option("--dest-creds", request->registry.credentials,
                  "USER:PASSWORD for docker:// outputs");
  cmd->add_option("--authfile", request->registry.auth_file, "registry credentials file");
  cmd->add_option("--tls-verify", *tls_verify, "verify registry TLS certificates (true|false)")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--cert-dir", request->registry.cert_dir,
                  "directory of CA certificates for the registry");
  return [=]() -> Result<int> {
    image::UpdateRequest r = *request;
    for (const auto& list : *only) {  // each --only given, split here to name an empty item
      DISTILL_TRY(auto names, comma_list("--only", list));
      r.only.insert(r.only.end(), names.begin(), names.end());
    }
    r.lock_out = *lock_out;
    r.keyrings.assign(keyrings->begin(), keyrings->end());
    r.registry.tls_verify = *tls_verify != "false";
    r.jobs = options->jobs;
    r.allow_release_rollback = options->allow_release_rollback;
    if (const char* root = std::getenv("DISTILL_APT_ROOT"); root != nullptr && *root != '\0') {
      r.apt_root = root;
    }
    if (r.outputs.size() != 1) {
      return make_error(ErrorKind::InvalidInput, "usage: update writes one image: give one -o");
    }
    DISTILL_CHECK(oci::check_registry_settings(r.registry));
    DISTILL_TRY(const std::optional<check::SbomFormat> sbom_format, sbom->wanted());
    DISTILL_TRY(auto session, BuildSession::open(*options));
    util::catch_interrupts();
    DISTILL_TRY(const image::UpdateResult result, image::update_image(r, session->env()));
    for (const auto& c : result.changes) {
      std::string what = c.from_version.empty() ? "added " + c.to_version
                         : c.to_version.empty() ? "removed " + c.from_version
                                                : c.from_version + " -> " + c.to_version;
      // What changed is the command's answer: on stdout, whatever --progress says.
      std::printf("%s: %s %s\n", c.arch.c_str(), c.name.c_str(), what.c_str());
    }
    if (result.changes.empty()) {
      std::printf("no package changed\n");
    }
    for (const auto& out : result.build.outputs_written) {
      session->progress().step("wrote " + out + " (" +
                               result.build.image.index_descriptor.digest.str() + ")");
    }
    if (!r.lock_out.empty()) {
      session->progress().step("wrote " + r.lock_out.string());
    }
    if (sbom_format) {
      DISTILL_CHECK(attach_sboms(result.build, *sbom_format, r.registry, *session));
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
