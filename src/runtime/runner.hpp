// Running an OCI runtime bundle with runc (or crun), without a daemon.
//
// `runc --root <private dir> run --bundle DIR ID`, stdin from /dev/null, stdout and
// stderr inherited. runc exits with the container's status (128+N when killed by
// signal N). While it runs, SIGINT/SIGTERM/SIGHUP sent to distill are forwarded to
// the container as `runc kill ID SIGTERM` (a second one, or 10 s without an exit,
// sends SIGKILL: a PID 1 without handlers ignores SIGTERM), and the container is
// always deleted
// (`runc delete -f ID`) afterwards. See runc(8) and the OCI runtime spec's
// lifecycle (https://github.com/opencontainers/runtime-spec/blob/main/runtime.md).
#pragma once

#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace distill::runtime {

// The OCI runtime to use: runc if found in PATH, else crun; empty if neither.
std::filesystem::path find_oci_runtime();

// A container id unique on this machine: distill-<pid>-<counter>.
std::string make_container_id();

// Runs the bundle and returns the container's exit status. Fails (rather than
// returning a status) when the runtime is missing or could not start the
// container; the error then carries the runtime's own message. Signal handlers for
// SIGINT/SIGTERM/SIGHUP are replaced during the call and restored afterwards;
// calls are serialised process-wide.
Result<int> run_bundle(const std::filesystem::path& bundle_dir, const std::string& container_id);

}  // namespace distill::runtime
