// run_image: see run_image.hpp.
#include "runtime/run_image.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "runtime/process_args.hpp"
#include "runtime/program_check.hpp"
#include "runtime/rootfs_unpacker.hpp"
#include "runtime/runner.hpp"
#include "runtime/terminal.hpp"
#include "util/file_io.hpp"
#include "util/interrupt_cleanup.hpp"
#include "util/temp_dir.hpp"

namespace distill::runtime {

std::vector<std::string> compute_args(
    const oci::ImageConfig& config,
    const std::optional<std::vector<std::string>>& entrypoint_override,
    const std::vector<std::string>& extra_args) {
  return compute_args(config.entrypoint, config.cmd, entrypoint_override, extra_args);
}

RunOptions run_options_for(const RunRequest& request) {
  RunOptions options;
  options.args = compute_args(request.config, request.entrypoint, request.args);
  options.env = merge_env(request.config.env, request.env_overrides);
  options.user = request.user.empty() ? request.config.user : request.user;
  if (!request.workdir.empty()) {
    options.cwd = request.workdir;
  } else if (!request.config.working_dir.empty()) {
    options.cwd = request.config.working_dir;
  }
  options.network = request.network;
  options.read_only = request.read_only;
  options.terminal = request.terminal;
  return options;
}

std::filesystem::path bundle_parent() {
  const char* tmp = std::getenv("TMPDIR");
  return (tmp != nullptr && *tmp != '\0') ? tmp : "/var/tmp";
}

Result<int> run_image(const RunRequest& request) {
  RunOptions options = run_options_for(request);
  // The pty starts with the caller's window size (later changes follow SIGWINCH).
  if (request.terminal) {
    auto size = window_size_of(STDIN_FILENO);
    if (!size) {
      size = window_size_of(STDOUT_FILENO);
    }
    if (size) {
      options.console_rows = size->rows;
      options.console_columns = size->columns;
    }
  }
  if (options.args.empty()) {
    return make_error(ErrorKind::InvalidInput,
                      "no command to run: the image has no entrypoint or cmd and none was given");
  }
  const std::filesystem::path parent = bundle_parent();
  // Bundles of runs that were killed (a TempDir is locked while its run lives).
  util::sweep_abandoned(parent, "distill-run-");
  DISTILL_TRY(util::TempDir bundle, util::TempDir::create("distill-run-", parent));
  // The bundle directory itself must be traversable by the container's user.
  if (::chmod(bundle.path().c_str(), 0711) != 0) {
    return util::errno_error(bundle.path(), errno);
  }
  const std::filesystem::path rootfs = bundle.path() / "rootfs";
  if (::mkdir(rootfs.c_str(), 0755) != 0) {
    return util::errno_error(rootfs, errno);
  }
  UnpackOptions unpack;
  unpack.diff_ids = request.config.diff_ids;
  unpack.image = request.image;
  DISTILL_CHECK(unpack_layers(request.layer_files, rootfs, unpack));
  DISTILL_CHECK(write_bundle_config(options, bundle.path()));
  // Before the runtime, whose reasons would reach the caller's stderr beside ours.
  DISTILL_CHECK(check_program(rootfs, options, request.image));
  Stdio stdio;
  stdio.interactive = request.interactive;
  stdio.terminal = request.terminal;
  return run_bundle(bundle.path(), make_container_id(), stdio);
}

}  // namespace distill::runtime
