// Image configuration JSON (OCI image-spec config.md). Output follows what
// docker/skopeo/buildkit write: "config" always present, empty optional fields
// omitted, ExposedPorts/Volumes as objects of empty objects, rootfs.type "layers".
#include "oci/image_config.hpp"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "oci/json_util.hpp"

namespace distill::oci {

namespace {

nlohmann::json key_set(const std::vector<std::string>& keys) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& key : keys) {
    json[key] = nlohmann::json::object();
  }
  return json;
}

}  // namespace

std::string format_rfc3339(int64_t epoch_seconds) {
  // By the calendar alone: gmtime_r() reads /etc/localtime the first time it
  // is called (glibc sets up the time zone for either), on a build's plan.
  using namespace std::chrono;
  const sys_seconds time{seconds{epoch_seconds}};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  char buffer[64];
  const int length = std::snprintf(
      buffer, sizeof(buffer), "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<long long>(clock.hours().count()),
      static_cast<long long>(clock.minutes().count()),
      static_cast<long long>(clock.seconds().count()));
  return std::string(buffer, static_cast<size_t>(length));
}

std::string ImageConfig::to_json() const {
  nlohmann::json runtime = nlohmann::json::object();
  if (!user.empty()) {
    runtime["User"] = user;
  }
  if (!env.empty()) {
    runtime["Env"] = env;
  }
  if (entrypoint) {
    runtime["Entrypoint"] = *entrypoint;
  }
  if (cmd) {
    runtime["Cmd"] = *cmd;
  }
  if (!working_dir.empty()) {
    runtime["WorkingDir"] = working_dir;
  }
  if (!exposed_ports.empty()) {
    runtime["ExposedPorts"] = key_set(exposed_ports);
  }
  if (!volumes.empty()) {
    runtime["Volumes"] = key_set(volumes);
  }
  if (!labels.empty()) {
    runtime["Labels"] = labels;
  }
  if (!stop_signal.empty()) {
    runtime["StopSignal"] = stop_signal;
  }

  nlohmann::json json = nlohmann::json::object();
  json["architecture"] = architecture;
  json["os"] = os;
  if (!variant.empty()) {
    json["variant"] = variant;
  }
  if (!created.empty()) {
    json["created"] = created;
  }
  if (!author.empty()) {
    json["author"] = author;
  }
  json["config"] = std::move(runtime);
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& id : diff_ids) {
    ids.push_back(id.str());
  }
  json["rootfs"] = {{"type", "layers"}, {"diff_ids", std::move(ids)}};
  if (!history.empty()) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& entry : history) {
      nlohmann::json item = nlohmann::json::object();
      if (!entry.created.empty()) {
        item["created"] = entry.created;
      }
      if (!entry.created_by.empty()) {
        item["created_by"] = entry.created_by;
      }
      if (!entry.comment.empty()) {
        item["comment"] = entry.comment;
      }
      if (entry.empty_layer) {
        item["empty_layer"] = true;
      }
      entries.push_back(std::move(item));
    }
    json["history"] = std::move(entries);
  }
  return detail::dump(json);
}

Result<ImageConfig> ImageConfig::parse(std::string_view text, const std::string& origin) {
  DISTILL_TRY(nlohmann::json json, detail::parse_object(text, origin));
  ImageConfig config;
  DISTILL_TRY(config.architecture, detail::get_string(json, "architecture", origin));
  DISTILL_TRY(config.os, detail::get_string(json, "os", origin));
  DISTILL_TRY(config.variant, detail::get_string(json, "variant", origin));
  DISTILL_TRY(config.created, detail::get_string(json, "created", origin));
  DISTILL_TRY(config.author, detail::get_string(json, "author", origin));

  auto runtime = json.find("config");
  if (runtime != json.end() && !runtime->is_null()) {
    if (!runtime->is_object()) {
      return detail::corrupt(origin, "\"config\" must be an object");
    }
    const std::string where = origin + ": config";
    DISTILL_TRY(config.user, detail::get_string(*runtime, "User", where));
    DISTILL_TRY(auto env, detail::get_string_array(*runtime, "Env", where));
    config.env = env.value_or(std::vector<std::string>{});
    DISTILL_TRY(config.entrypoint, detail::get_string_array(*runtime, "Entrypoint", where));
    DISTILL_TRY(config.cmd, detail::get_string_array(*runtime, "Cmd", where));
    DISTILL_TRY(config.working_dir, detail::get_string(*runtime, "WorkingDir", where));
    DISTILL_TRY(config.exposed_ports, detail::get_key_set(*runtime, "ExposedPorts", where));
    DISTILL_TRY(config.volumes, detail::get_key_set(*runtime, "Volumes", where));
    DISTILL_TRY(config.labels, detail::get_string_map(*runtime, "Labels", where));
    DISTILL_TRY(config.stop_signal, detail::get_string(*runtime, "StopSignal", where));
  }

  auto rootfs = json.find("rootfs");
  if (rootfs != json.end() && !rootfs->is_null()) {
    if (!rootfs->is_object()) {
      return detail::corrupt(origin, "\"rootfs\" must be an object");
    }
    DISTILL_TRY(auto ids, detail::get_string_array(*rootfs, "diff_ids", origin + ": rootfs"));
    for (const auto& id : ids.value_or(std::vector<std::string>{})) {
      auto digest = crypto::Digest::parse(id);
      if (!digest.ok()) {
        return detail::corrupt(origin, "bad rootfs.diff_ids entry \"" + id + "\"");
      }
      config.diff_ids.push_back(*digest);
    }
  }

  auto history = json.find("history");
  if (history != json.end() && !history->is_null()) {
    if (!history->is_array()) {
      return detail::corrupt(origin, "\"history\" must be an array");
    }
    for (const auto& item : *history) {
      if (!item.is_object()) {
        return detail::corrupt(origin, "\"history\" entries must be objects");
      }
      HistoryEntry entry;
      const std::string where = origin + ": history";
      DISTILL_TRY(entry.created, detail::get_string(item, "created", where));
      DISTILL_TRY(entry.created_by, detail::get_string(item, "created_by", where));
      DISTILL_TRY(entry.comment, detail::get_string(item, "comment", where));
      auto empty = item.find("empty_layer");
      if (empty != item.end() && !empty->is_null()) {
        if (!empty->is_boolean()) {
          return detail::corrupt(where, "\"empty_layer\" must be a boolean");
        }
        entry.empty_layer = empty->get<bool>();
      }
      config.history.push_back(std::move(entry));
    }
  }
  return config;
}

std::map<std::string, std::string> env_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& item : env) {
    size_t eq = item.find('=');
    out[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
  }
  return out;
}

}  // namespace distill::oci
