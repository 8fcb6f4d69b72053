// inspect_image and its JSON/text renderings: see inspect.hpp.
#include "check/inspect.hpp"

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "check/json_text.hpp"

namespace distill::check {

namespace {

std::string pad(std::string text, size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    out += (i == 0 ? "" : separator) + parts[i];
  }
  return out;
}

std::string quoted_list(const std::vector<std::string>& parts) {
  nlohmann::json array = parts;
  return array.dump();
}

}  // namespace

Result<InspectReport> inspect_image(const OpenedImage& image, const ImageView& view,
                                    const InspectOptions& options) {
  InspectReport report;
  for (const auto& manifest : image.image.manifests) {
    report.platforms.push_back({manifest.platform.str(), manifest.descriptor.digest.str()});
  }
  if (image.image.index_descriptor) {
    report.index_digest = image.image.index_descriptor->digest.str();
  }
  const oci::LoadedManifest& manifest = *image.manifest;
  report.selected = {manifest.platform.str(), manifest.descriptor.digest.str()};
  report.config_digest = manifest.manifest.config.digest.str();
  report.config = manifest.config;

  std::vector<std::string> created_by;
  for (const auto& entry : manifest.config.history) {
    if (!entry.empty_layer) {
      created_by.push_back(entry.created_by);
    }
  }
  for (size_t i = 0; i < manifest.manifest.layers.size(); ++i) {
    const oci::Descriptor& descriptor = manifest.manifest.layers[i];
    LayerSummary layer;
    layer.digest = descriptor.digest.str();
    layer.media_type = descriptor.media_type;
    layer.size = descriptor.size;
    if (i < manifest.config.diff_ids.size()) {
      layer.diff_id = manifest.config.diff_ids[i].str();
    }
    if (i < created_by.size()) {
      layer.created_by = created_by[i];
    }
    if (options.layer_sizes && i < manifest.layer_files.size()) {
      archive::NullSink null;
      archive::HashingSink counter(&null);
      DISTILL_CHECK(archive::decompress_file(manifest.layer_files[i], counter));
      layer.uncompressed_size = counter.size();
    }
    report.layers.push_back(std::move(layer));
  }
  DISTILL_TRY(report.packages, installed_packages(view));
  if (options.files) {
    for (const auto& [path, info] : view.files()) {
      report.files.push_back(
          {path, go_file_mode(info), info.uid, info.gid, info.size, info.link_target});
    }
  }
  return report;
}

nlohmann::json to_json(const PackageRecord& package) {
  nlohmann::json out{{"name", package.name},
                     {"version", package.version},
                     {"arch", package.arch},
                     {"source", package.source.empty() ? package.name : package.source},
                     {"maintainer", package.maintainer}};
  if (!package.source_version.empty()) {
    out["source_version"] = package.source_version;
  }
  return out;
}

nlohmann::json config_to_json(const oci::ImageConfig& config) {
  nlohmann::json out{{"architecture", config.architecture},
                     {"os", config.os},
                     {"created", config.created},
                     {"user", config.user},
                     {"env", config.env},
                     {"working_dir", config.working_dir},
                     {"exposed_ports", config.exposed_ports},
                     {"volumes", config.volumes},
                     {"labels", config.labels},
                     {"stop_signal", config.stop_signal}};
  if (!config.variant.empty()) {
    out["variant"] = config.variant;
  }
  out["entrypoint"] = config.entrypoint ? nlohmann::json(*config.entrypoint) : nlohmann::json();
  out["cmd"] = config.cmd ? nlohmann::json(*config.cmd) : nlohmann::json();
  return out;
}

nlohmann::json to_json(const InspectReport& report) {
  nlohmann::json platforms = nlohmann::json::array();
  for (const auto& platform : report.platforms) {
    platforms.push_back({{"platform", platform.platform}, {"digest", platform.digest}});
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : report.layers) {
    layers.push_back({{"digest", layer.digest},
                      {"media_type", layer.media_type},
                      {"size", layer.size},
                      {"uncompressed_size", layer.uncompressed_size},
                      {"diff_id", layer.diff_id},
                      {"created_by", layer.created_by}});
  }
  nlohmann::json packages = nlohmann::json::array();
  for (const auto& package : report.packages) {
    packages.push_back(to_json(package));
  }
  nlohmann::json out{{"platforms", platforms},
                     {"platform", report.selected.platform},
                     {"manifest_digest", report.selected.digest},
                     {"config_digest", report.config_digest},
                     {"config", config_to_json(report.config)},
                     {"layers", layers},
                     {"packages", packages}};
  if (!report.index_digest.empty()) {
    out["index_digest"] = report.index_digest;
  }
  if (!report.files.empty()) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& file : report.files) {
      nlohmann::json entry{{"path", json_text(file.path)},
                           {"mode", file.mode},
                           {"uid", file.uid},
                           {"gid", file.gid},
                           {"size", file.size}};
      if (!file.link_target.empty()) {
        entry["link_target"] = json_text(file.link_target);
      }
      files.push_back(std::move(entry));
    }
    out["files"] = std::move(files);
  }
  return out;
}

std::string to_text(const InspectReport& report) {
  std::string out;
  if (!report.index_digest.empty()) {
    out += "Index: " + report.index_digest + "\n";
  }
  out += "Platforms:\n";
  for (const auto& platform : report.platforms) {
    out += "  " + pad(platform.platform, 20) + " " + platform.digest +
           (platform.digest == report.selected.digest ? "  (shown)" : "") + "\n";
  }
  const oci::ImageConfig& config = report.config;
  out += "Config: " + report.config_digest + "\n";
  out += "  Created:    " + config.created + "\n";
  out += "  User:       " + config.user + "\n";
  out += "  WorkingDir: " + config.working_dir + "\n";
  out += "  Entrypoint: " + (config.entrypoint ? quoted_list(*config.entrypoint) : "-") + "\n";
  out += "  Cmd:        " + (config.cmd ? quoted_list(*config.cmd) : "-") + "\n";
  for (const auto& env : config.env) {
    out += "  Env:        " + env + "\n";
  }
  if (!config.exposed_ports.empty()) {
    out += "  Ports:      " + join(config.exposed_ports, " ") + "\n";
  }
  if (!config.volumes.empty()) {
    out += "  Volumes:    " + join(config.volumes, " ") + "\n";
  }
  for (const auto& [key, value] : config.labels) {
    out += "  Label:      " + key + "=" + value + "\n";
  }
  out += "Layers:\n";
  for (const auto& layer : report.layers) {
    out += "  " + layer.digest + "  " + std::to_string(layer.size) + " bytes (" +
           std::to_string(layer.uncompressed_size) + " uncompressed)  " + layer.created_by + "\n";
  }
  out += "Packages (" + std::to_string(report.packages.size()) + "):\n";
  for (const auto& package : report.packages) {
    out +=
        "  " + pad(package.name, 28) + " " + pad(package.version, 24) + " " + package.arch + "\n";
  }
  if (!report.files.empty()) {
    out += "Files:\n";
    for (const auto& file : report.files) {
      out += "  " + pad(file.mode, 11) + " " +
             pad(std::to_string(file.uid) + ":" + std::to_string(file.gid), 11) + " " +
             pad(std::to_string(file.size), 10) + " " + file.path +
             (file.link_target.empty() ? "" : " -> " + file.link_target) + "\n";
    }
  }
  return out;
}

}  // namespace distill::check
