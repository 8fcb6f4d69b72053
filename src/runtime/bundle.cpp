// config.json generation: see bundle.hpp. The defaults mirror `runc spec` (mounts,
// masked/read-only paths, device cgroup) and docker (capabilities, NOFILE).
#include "runtime/bundle.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "runtime/user_spec.hpp"
#include "util/file_io.hpp"

namespace distill::runtime {

namespace {

using nlohmann::json;

// docker's default capability set (moby oci/caps/defaults.go).
const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> k_caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  return k_caps;
}

json mount(const std::string& destination, const std::string& type, const std::string& source,
           std::vector<std::string> options) {
  return json{{"destination", destination},
              {"type", type},
              {"source", source},
              {"options", std::move(options)}};
}

// runc spec's default mounts. sysfs is mounted fresh even with the host network:
// as root in the initial user namespace that is allowed (docker --net=host does it).
json mounts() {
  json list = json::array();
  list.push_back(mount("/proc", "proc", "proc", {}));
  list.push_back(
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  list.push_back(mount("/dev/pts", "devpts", "devpts",
                       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  list.push_back(
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  list.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  list.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  list.push_back(
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return list;
}

json rlimits() {
  // docker's default is 1048576; never ask for more than this machine allows.
  rlim_t limit = 1048576;
  struct rlimit current {};
  if (::getrlimit(RLIMIT_NOFILE, &current) == 0 && current.rlim_max != RLIM_INFINITY) {
    limit = std::min(limit, current.rlim_max);
  }
  return json::array({json{{"type", "RLIMIT_NOFILE"}, {"hard", limit}, {"soft", limit}}});
}

bool has_key(const std::vector<std::string>& env, const std::string& key) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& kv) { return kv.rfind(key + "=", 0) == 0; });
}

}  // namespace

Result<std::string> runtime_config_json(const RunOptions& options,
                                        const std::filesystem::path& rootfs) {
  if (options.args.empty()) {
    return make_error(ErrorKind::InvalidInput,
                      "no command to run: the image has no entrypoint or cmd and none was given");
  }
  std::string cwd = options.cwd.empty() ? "/" : options.cwd;
  if (cwd.front() != '/') {
    return make_error(ErrorKind::InvalidInput,
                      "working directory '" + cwd + "' is not an absolute path");
  }
  for (const auto& kv : options.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=') {
      return make_error(ErrorKind::InvalidInput, "environment entry '" + kv + "' is not K=V");
    }
  }
  DISTILL_TRY(ProcessUser user, resolve_user_in_rootfs(options.user, rootfs));

  std::vector<std::string> env = options.env;
  if (!has_key(env, "PATH")) {
    env.insert(env.begin(), std::string("PATH=") + k_default_path);
  }
  if (!has_key(env, "HOME")) {
    env.push_back("HOME=" + home_of(user.uid, rootfs).value_or("/"));
  }
  if (options.terminal && !has_key(env, "TERM")) {
    env.push_back("TERM=xterm");
  }

  json user_json{{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) {
    user_json["additionalGids"] = user.additional_gids;
  }
  const auto& caps = default_capabilities();
  json process{
      {"terminal", options.terminal},
      {"user", user_json},
      {"args", options.args},
      {"env", env},
      {"cwd", cwd},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", rlimits()},
      {"noNewPrivileges", true},
  };

  json namespaces = json::array({json{{"type", "pid"}}, json{{"type", "ipc"}},
                                 json{{"type", "uts"}}, json{{"type", "mount"}}});
  if (options.network == RunOptions::Network::None) {
    namespaces.push_back(json{{"type", "network"}});
  }

  if (options.terminal && options.console_rows > 0 && options.console_columns > 0) {
    process["consoleSize"] = {{"height", options.console_rows}, {"width", options.console_columns}};
  }

  json linux_json{
      {"namespaces", namespaces},
      {"resources", {{"devices", json::array({json{{"allow", false}, {"access", "rwm"}}})}}},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };

  json config{
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", rootfs.string()}, {"readonly", options.read_only}}},
      {"hostname", options.hostname},
      {"mounts", mounts()},
      {"linux", linux_json},
  };
  return config.dump(2) + "\n";
}

Status write_bundle_config(const RunOptions& options, const std::filesystem::path& bundle_dir) {
  std::filesystem::path rootfs = std::filesystem::absolute(bundle_dir / "rootfs");
  DISTILL_TRY(std::string text, runtime_config_json(options, rootfs));
  return util::write_file_atomic(bundle_dir / "config.json", text, 0600);
}

}  // namespace distill::runtime
