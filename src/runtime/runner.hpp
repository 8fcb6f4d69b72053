// Running an OCI runtime bundle with runc (or crun), without a daemon.
//
// `runc --root <private dir> run --bundle DIR ID`, stdin from /dev/null (the
// caller's stdin with Stdio::interactive), stdout and stderr inherited. runc exits
// with the container's status (128+N when killed by signal N).
//
// With Stdio::terminal (the bundle's config.json has process.terminal: true) the
// container gets a pseudo-terminal: `runc run -d --console-socket SOCK` sends its
// master over SOCK (console_socket.hpp) and returns once the container runs;
// distill, a child subreaper for the call (prctl(2) PR_SET_CHILD_SUBREAPER),
// inherits the container's process, relays the caller's input and the
// container's output through the master (console_relay.hpp) with the caller's
// terminal in raw mode (terminal.hpp), copies the window size on SIGWINCH, and
// takes the exit status from waitpid. While it runs, SIGINT/SIGTERM/SIGHUP sent to distill are
// forwarded to the container as `runc kill ID SIGTERM` (a second one, or 10 s without an exit,
// sends SIGKILL: a PID 1 without handlers ignores SIGTERM), and a container
// whose state is left afterwards is deleted (`runc delete -f ID`). See runc(8) and the OCI runtime
// spec's lifecycle (https://github.com/opencontainers/runtime-spec/blob/main/runtime.md).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace distill::runtime {

// The OCI runtime to use: runc if found in PATH, else crun; empty if neither.
std::filesystem::path find_oci_runtime();

// find_oci_runtime(), or NotFound saying how to install one.
Result<std::filesystem::path> require_oci_runtime();

// A container id unique on this machine: distill-<pid>-<counter>.
std::string make_container_id();

// How the container's stdio connects to the caller's.
struct Stdio {
  bool interactive = false;  // -i: the container reads `input` (else /dev/null)
  bool terminal = false;     // -t: a pty; config.json must say process.terminal
  int input = 0;             // the caller's stdin
  int output = 1;            // the caller's stdout (the pty's output goes there)
  int error = 2;             // where the container's stderr goes, without a terminal
};

// Runs the bundle and returns the container's exit status. `stop_signal`, when
// given, receives the first stop signal (SIGINT, SIGTERM, SIGHUP) forwarded to
// the container during the call, 0 if none. Fails (rather than
// returning a status) when the runtime is missing or could not start the
// container; the error then carries the runtime's own message and, for a
// program that is missing or cannot be run, start_failure_status's. Signal handlers for
// SIGINT/SIGTERM/SIGHUP are replaced during the call and restored afterwards;
// calls are serialised process-wide.
Result<int> run_bundle(const std::filesystem::path& bundle_dir, const std::string& container_id,
                       const Stdio& stdio = {}, int* stop_signal = nullptr);

// The exit status of a container the runtime could not start, by the reason
// it gave, as docker and podman give it: 127 when the program does not exist
// ("no such file or directory", "executable file not found"), 126 when it
// cannot be run ("permission denied"), else 0 (distill's own failure).
int start_failure_status(std::string_view reason);

}  // namespace distill::runtime
