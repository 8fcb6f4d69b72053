#include "image/image_settings.hpp"

#include <algorithm>

namespace distill::image {

Result<Variant> parse_variant(std::string_view name) {
  if (name == "latest" || name.empty()) {
    return Variant::Latest;
  }
  if (name == "nonroot") {
    return Variant::Nonroot;
  }
  if (name == "debug") {
    return Variant::Debug;
  }
  if (name == "debug-nonroot") {
    return Variant::DebugNonroot;
  }
  return make_error(ErrorKind::InvalidInput, "--variant: unknown variant '" + std::string(name) +
                                                 "' (latest, nonroot, debug, debug-nonroot)");
}

std::string to_string(Variant variant) {
  switch (variant) {
    case Variant::Latest:
      return "latest";
    case Variant::Nonroot:
      return "nonroot";
    case Variant::Debug:
      return "debug";
    case Variant::DebugNonroot:
      return "debug-nonroot";
  }
  return "latest";
}

bool is_debug(Variant variant) {
  return variant == Variant::Debug || variant == Variant::DebugNonroot;
}

void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  std::string prefix = key + "=";
  for (auto& item : env) {
    if (item.compare(0, prefix.size(), prefix) == 0) {
      item = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

std::string get_env(const std::vector<std::string>& env, const std::string& key) {
  std::string prefix = key + "=";
  for (const auto& item : env) {
    if (item.compare(0, prefix.size(), prefix) == 0) {
      return item.substr(prefix.size());
    }
  }
  return "";
}

namespace {

void add_unique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) {
    list.push_back(value);
  }
}

}  // namespace

void apply_spec(ConfigState& state, const Spec& spec) {
  oci::ImageConfig& c = state.config;
  if (c.env.empty()) {
    c.env.emplace_back(k_default_path);
  }
  for (const auto& [key, value] : spec.env) {
    set_env(c.env, key, value);
  }
  if (spec.entrypoint) {
    c.entrypoint = spec.entrypoint;
    // Docker semantics: a new entrypoint drops the inherited command.
    c.cmd = spec.cmd;
  } else if (spec.cmd) {
    c.cmd = spec.cmd;
  }
  if (spec.user) {
    c.user = *spec.user;
    state.user_from_spec = true;
  }
  if (spec.workdir) {
    c.working_dir = *spec.workdir;
    state.workdir_from_spec = true;
  }
  for (const auto& port : spec.ports) {
    add_unique(c.exposed_ports, port);
  }
  for (const auto& volume : spec.volumes) {
    add_unique(c.volumes, volume);
  }
  std::sort(c.exposed_ports.begin(), c.exposed_ports.end());
  std::sort(c.volumes.begin(), c.volumes.end());
  for (const auto& [key, value] : spec.labels) {
    c.labels[key] = value;
  }
  if (!spec.stop_signal.empty()) {
    c.stop_signal = spec.stop_signal;
  }
}

void apply_variant(ConfigState& state, Variant variant) {
  oci::ImageConfig& c = state.config;
  bool nonroot = variant == Variant::Nonroot || variant == Variant::DebugNonroot;
  if (!state.user_from_spec) {
    c.user = nonroot ? "65532" : "0";
  }
  if (!state.workdir_from_spec) {
    c.working_dir = nonroot ? "/home/nonroot" : "/";
  }
  if (is_debug(variant)) {
    std::string path = get_env(c.env, "PATH");
    set_env(c.env, "PATH", path.empty() ? "/busybox" : path + ":/busybox");
    if (!c.entrypoint) {
      c.entrypoint = std::vector<std::string>{"/busybox/sh"};
    }
  }
}

}  // namespace distill::image
