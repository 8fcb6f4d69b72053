// The OCI runtime bundle's config.json for running an image's process.
//
// Follows the OCI runtime spec (https://github.com/opencontainers/runtime-spec,
// config.md and config-linux.md) with the defaults `runc spec` and docker use:
// docker's default capability set, no new privileges, pid/ipc/uts/mount (and
// network unless Network::Host) namespaces, /proc, /dev (tmpfs), /dev/pts,
// /dev/shm, /dev/mqueue, /sys (read-only) and the cgroup mounts, runc's masked and
// read-only /proc and /sys paths, and RLIMIT_NOFILE capped at this machine's hard
// limit so the runtime never fails to apply it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace distill::runtime {

struct RunOptions {
  enum class Network { None, Host };

  std::vector<std::string> args;  // the final argv (see compute_args)
  std::vector<std::string> env;   // K=V; PATH and HOME are added when missing
  std::string user;               // "uid[:gid]" or "name[:group]", resolved in rootfs
  std::string cwd = "/";
  Network network = Network::None;
  bool read_only = false;
  // process.terminal: the process gets a pseudo-terminal as its stdio (run -t),
  // and TERM=xterm unless env sets TERM (docker's default).
  bool terminal = false;
  // process.consoleSize with a terminal: the pty's size from the start (the
  // caller's terminal's), so the first prompt already sees it. 0: unset.
  uint16_t console_rows = 0;
  uint16_t console_columns = 0;
  std::string hostname = "distill";
};

// The PATH a process gets when the image sets none (docker's default).
inline constexpr const char* k_default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// config.json for a bundle whose root filesystem is the directory `rootfs`
// (written into `root.path` as given, so pass an absolute path). The user is
// resolved through rootfs's /etc/passwd and /etc/group; an unknown user name, an
// empty argv or a relative cwd is an error.
Result<std::string> runtime_config_json(const RunOptions& options,
                                        const std::filesystem::path& rootfs);

// Writes <bundle>/config.json for the rootfs at <bundle>/rootfs.
Status write_bundle_config(const RunOptions& options, const std::filesystem::path& bundle_dir);

}  // namespace distill::runtime
