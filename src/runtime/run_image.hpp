// `distill run` in one call: unpack an image's layers into a fresh OCI runtime
// bundle (under $TMPDIR, else /var/tmp), write its config.json from the image
// config plus the user's overrides (docker run semantics), run it with runc/crun
// and remove the bundle. The CLI reads the image and fills a RunRequest.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "oci/image_config.hpp"
#include "runtime/bundle.hpp"
#include "util/result.hpp"

namespace distill::runtime {

struct RunRequest {
  std::vector<std::filesystem::path> layer_files;  // bottom first; gzip/zstd/plain tars
  oci::ImageConfig config;  // its diff_ids, when it has them, are checked as layers unpack
  std::string image;        // the reference, naming the image in errors
  std::optional<std::vector<std::string>> entrypoint;  // --entrypoint ({} clears it)
  std::vector<std::string> args;                       // after `--`: replace cmd
  std::vector<std::string> env_overrides;              // -e K=V (or -e K)
  std::string user;                                    // --user; empty: the image's
  std::string workdir;                                 // --workdir; empty: the image's
  RunOptions::Network network = RunOptions::Network::None;
  bool read_only = false;
  bool interactive = false;  // -i: the container reads the caller's stdin
  bool terminal = false;     // -t: the container gets a pseudo-terminal
};

// docker semantics over the image config; see process_args.hpp.
std::vector<std::string> compute_args(
    const oci::ImageConfig& config,
    const std::optional<std::vector<std::string>>& entrypoint_override,
    const std::vector<std::string>& extra_args);

// The process settings the request asks for (argv, env, user, cwd, network,
// terminal).
RunOptions run_options_for(const RunRequest& request);

// Where bundles are unpacked: $TMPDIR, else /var/tmp (a disk, where /tmp may
// be a tmpfs that would hold the whole image in memory).
std::filesystem::path bundle_parent();

// Runs the image and returns the container's exit status; errors are failures to
// prepare or start the container (bad layer, unknown user, no runc, ...).
Result<int> run_image(const RunRequest& request);

}  // namespace distill::runtime
