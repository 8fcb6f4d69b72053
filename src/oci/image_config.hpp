// The image configuration JSON of the OCI image-spec (config.md), which Docker
// shares: architecture/os, the runtime config (User, Env, Entrypoint, ...), the
// rootfs diff_ids and history.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string comment;
  bool empty_layer = false;

  friend bool operator==(const HistoryEntry&, const HistoryEntry&) = default;
};

struct ImageConfig {
  std::string architecture;
  std::string os = "linux";
  std::string variant;
  std::string created;  // RFC 3339, e.g. "1970-01-01T00:00:00Z"
  std::string author;
  // config.*
  std::string user;
  std::vector<std::string> env;  // "KEY=VALUE"
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "8000/tcp"
  std::vector<std::string> volumes;        // "/var/lib/app"
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  // rootfs.diff_ids (type "layers")
  std::vector<crypto::Digest> diff_ids;
  std::vector<HistoryEntry> history;

  friend bool operator==(const ImageConfig&, const ImageConfig&) = default;

  // Compact, deterministic JSON (keys sorted); empty optional fields omitted.
  [[nodiscard]] std::string to_json() const;
  // `origin` names the source for messages ("oci:out:latest config sha256:...").
  static Result<ImageConfig> parse(std::string_view json, const std::string& origin);
};

// "1970-01-01T00:00:00Z" for 0.
std::string format_rfc3339(int64_t epoch_seconds);

// Config Env ("NAME=value" items) as a map; a later definition of a name wins,
// as it does in the container.
std::map<std::string, std::string> env_map(const std::vector<std::string>& env);

}  // namespace distill::oci
