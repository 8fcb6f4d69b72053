// distill run REF [-- ARGS...]: unpacks the image into an OCI runtime bundle and
// runs it with runc (no daemon); exits with the container's status (127/126 when
// its program does not exist / cannot be run: runtime/runner.hpp). -i passes
// stdin through, -t gives the container a pseudo-terminal (`-it` for a shell).
#include "check/image_view.hpp"
#include "cli/command.hpp"
#include "cli/source_flags.hpp"
#include "runtime/run_image.hpp"

namespace distill::cli {

CommandRunner register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "run an image with runc");
  struct Options {
    std::string reference;
    std::string network = "none";
    std::vector<std::string> env;
    std::string user;
    std::string workdir;
    std::string entrypoint;
    bool entrypoint_set = false;
    std::string arch;
    bool interactive = false;
    bool terminal = false;
    std::vector<std::string> args;
  };
  auto o = std::make_shared<Options>();
  auto o_source = std::make_shared<SourceFlags>();
  add_source_flags(cmd, *o_source);
  cmd->add_option("REF", o->reference, "image reference")->required();
  cmd->add_option("--network", o->network, "none (loopback only) or host")
      ->check(CLI::IsMember({"none", "host"}));
  // One K=V per -e (repeatable): a greedy list would swallow REF and break `--`.
  cmd->add_option("-e,--env", o->env, "K=V environment override, repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--user", o->user, "user[:group] to run as");
  cmd->add_option("--workdir", o->workdir, "working directory");
  auto* entrypoint = cmd->add_option("--entrypoint", o->entrypoint, "program to run instead");
  cmd->add_option("--arch", o->arch, "platform to run (Debian arch name)");
  cmd->add_flag("-i,--interactive", o->interactive, "pass stdin to the container");
  cmd->add_flag(
      "-t,--tty", o->terminal,
      "give the container a pseudo-terminal (with -i: the caller's terminal in raw mode)");
  cmd->add_option("ARGS", o->args, "arguments (after --), replacing the image's cmd");
  return [o, entrypoint, o_source]() -> Result<int> {
    DISTILL_TRY(oci::SourceOptions source, source_options(*o_source));
    DISTILL_TRY(auto opened, check::open_image(o->reference, o->arch, source));
    const oci::LoadedManifest* manifest = opened->manifest;
    runtime::RunRequest request;
    request.layer_files = manifest->layer_files;
    request.config = manifest->config;
    request.image = o->reference;
    if (entrypoint->count() > 0) {
      request.entrypoint = o->entrypoint.empty() ? std::vector<std::string>{}
                                                 : std::vector<std::string>{o->entrypoint};
    }
    request.args = o->args;
    request.env_overrides = o->env;
    request.user = o->user;
    request.workdir = o->workdir;
    request.interactive = o->interactive;
    request.terminal = o->terminal;
    request.network = o->network == "host" ? runtime::RunOptions::Network::Host
                                           : runtime::RunOptions::Network::None;
    return runtime::run_image(request);
  };
}

}  // namespace distill::cli
