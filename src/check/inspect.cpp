// inspect_image and its JSON/text renderings: see inspect.hpp.
#include "check/inspect.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "check/json_text.hpp"
#include "check/package_files.hpp"
#include "util/text.hpp"

namespace distill::check {

namespace {

std::string pad(std::string text, size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

using util::human_size;
using util::join;

std::string quoted_list(const std::vector<std::string>& parts) {
  nlohmann::json array = parts;
  return array.dump();
}

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.rfind(prefix, 0) == 0;
}

constexpr std::string_view k_distill_prefix = "distill: ";

// Whether distill made the layer: its history entry says so. Another tool's
// created_by ("umoci repack", "/bin/sh -c apt-get install ...") says nothing
// about what the layer holds, even when it names packages.
bool made_by_distill(const std::string& created_by) {
  return starts_with(created_by, k_distill_prefix);
}

// What a layer holds, from its created_by when it has no status entries:
// distill writes "distill: <part>, <part>..." with parts such as "accounts",
// "ld.so.cache", "files of NAME" or "archive URL".
std::vector<std::string> kinds_from_history(const std::string& created_by) {
  constexpr std::string_view k_prefix = k_distill_prefix;
  if (!made_by_distill(created_by)) {
    return {"files"};
  }
  std::string rest = created_by.substr(k_prefix.size());
  std::vector<std::string> kinds;
  auto add = [&](const std::string& kind) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      kinds.push_back(kind);
    }
  };
  if (starts_with(rest, "packages ") || starts_with(rest, "busybox")) {
    return {"packages"};
  }
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find(", ", start);
    std::string part = rest.substr(start, end == std::string::npos ? end : end - start);
    if (starts_with(part, "files of ")) {
      add("application");
    } else if (starts_with(part, "archive")) {
      add("archive");
    } else if (!part.empty()) {
      add("generated");
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 2;
  }
  return kinds.empty() ? std::vector<std::string>{"generated"} : kinds;
}

// Layers, largest files and size per package from the merged view.
Status add_usage(const ImageView& view, const InspectOptions& options, InspectReport& report) {
  // distill's package layers hold their packages' files and nothing else.
  std::vector<bool> package_layers;
  for (const auto& layer : report.layers) {
    package_layers.push_back(kinds_from_history(layer.created_by) ==
                             std::vector<std::string>{"packages"});
  }
  DISTILL_TRY(auto owners, package_file_owners(view, report.packages, package_layers));
  std::map<size_t, std::vector<std::string>> layer_packages;
  for (const auto& package : report.packages) {
    const FileInfo* info = view.lstat(package.status_file);
    if (info != nullptr && starts_with(package.status_file, "/var/lib/dpkg/status.d/")) {
      layer_packages[info->layer].push_back(package.name + " " + package.version);
    }
  }
  for (size_t i = 0; i < report.layers.size(); ++i) {
    LayerSummary& layer = report.layers[i];
    auto found = layer_packages.find(i);
    if (found != layer_packages.end()) {
      layer.packages = found->second;
      // Another tool's layer may hold any files beside the status entries
      // (a whole root file system): those come first, as what no package owns.
      layer.holds = made_by_distill(layer.created_by)
                        ? std::vector<std::string>{"packages"}
                        : std::vector<std::string>{"files", "packages"};
    } else {
      layer.holds = kinds_from_history(layer.created_by);
    }
  }
  std::vector<SizeShare> shares(report.packages.size());
  for (size_t i = 0; i < report.packages.size(); ++i) {
    shares[i].name = report.packages[i].name;
    shares[i].version = report.packages[i].version;
  }
  std::map<std::string, SizeShare> unpackaged;
  std::vector<LargeFile> regular;
  for (const auto& [path, info] : view.files()) {
    if (info.is_dir()) {
      continue;
    }
    uint64_t size = info.is_regular() ? info.size : 0;
    if (info.layer < report.layers.size()) {
      report.layers[info.layer].files += 1;
      report.layers[info.layer].content_size += size;
    }
    auto owner = owners.find(path);
    SizeShare* share = nullptr;
    if (owner != owners.end()) {
      share = &shares[owner->second];
    } else {
      // Unowned: the kind of its layer (a top layer holding several: the first).
      std::string kind =
          info.layer < report.layers.size() && !report.layers[info.layer].holds.empty()
              ? report.layers[info.layer].holds.front()
              : "files";
      share = &unpackaged[kind];
      share->name = kind;
    }
    share->size += size;
    share->files += 1;
    if (info.is_regular()) {
      regular.push_back({path, size, info.layer,
                         owner == owners.end() ? "" : report.packages[owner->second].name});
    }
  }
  auto larger = [](const auto& a, const auto& b) {
    return a.size != b.size ? a.size > b.size : a.name < b.name;
  };
  std::sort(shares.begin(), shares.end(), larger);
  report.package_sizes = std::move(shares);
  for (auto& [kind, share] : unpackaged) {
    report.unpackaged.push_back(std::move(share));
  }
  std::sort(report.unpackaged.begin(), report.unpackaged.end(), larger);
  size_t count = std::min(options.largest, regular.size());
  std::partial_sort(regular.begin(), regular.begin() + static_cast<long>(count), regular.end(),
                    [](const LargeFile& a, const LargeFile& b) {
                      return a.size != b.size ? a.size > b.size : a.path < b.path;
                    });
  regular.resize(count);
  report.largest_files = std::move(regular);
  return {};
}

std::string right(std::string text, size_t width) {
  if (text.size() < width) {
    text.insert(0, width - text.size(), ' ');
  }
  return text;
}

// The "holds" column: the kinds, and for packages their names.
std::string holds_text(const LayerSummary& layer) {
  std::string out = join(layer.holds, " + ");
  if (!layer.packages.empty()) {
    std::vector<std::string> names;
    for (const auto& package : layer.packages) {
      names.push_back(package.substr(0, package.find(' ')));
    }
    out += ": " + join(names, ", ");
  } else if (made_by_distill(layer.created_by)) {
    std::string what = layer.created_by.substr(k_distill_prefix.size());
    // The kind said once: "distill: packages NAME VERSION" (its status
    // entries removed by a later layer) and "distill: archive NAME VERSION
    // (URL) at DST" start with their kind already.
    if (layer.holds.size() == 1 && starts_with(what, layer.holds[0] + " ")) {
      what.erase(0, layer.holds[0].size() + 1);
    }
    out += ": " + what;
  }
  constexpr size_t k_width = 72;
  if (out.size() > k_width) {
    out = out.substr(0, k_width - 3) + "...";
  }
  return out;
}

}  // namespace

Result<InspectReport> inspect_image(const OpenedImage& image, const ImageView& view,
                                    const InspectOptions& options) {
  InspectReport report;
  for (const auto& manifest : image.image.manifests) {
    if (!manifest.artifact) {  // an SBOM beside the images is no platform
      report.platforms.push_back({manifest.platform.str(), manifest.descriptor.digest.str()});
    }
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
    if (options.layer_sizes && i < manifest.layer_files.size() && i < view.layer_count() &&
        view.uncompressed_size(i)) {
      layer.uncompressed_size = *view.uncompressed_size(i);  // read as the view was folded
    } else if (options.layer_sizes && i < manifest.layer_files.size()) {
      archive::NullSink null;
      archive::HashingSink counter(&null);
      DISTILL_CHECK(archive::decompress_file(manifest.layer_files[i], counter));
      layer.uncompressed_size = counter.size();
    }
    report.layers.push_back(std::move(layer));
  }
  DISTILL_TRY(report.packages, installed_packages(view));
  if (options.usage) {
    DISTILL_CHECK(add_usage(view, options, report));
  }
  if (options.files) {
    for (const auto& [path, info] : view.files()) {
      report.files.push_back(
          {path, go_file_mode(info), info.uid, info.gid, info.size, info.link_target});
    }
  }
  return report;
}

bool inspect_reads(std::string_view tar_path) { return is_package_record(tar_path, true); }

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
                      {"created_by", layer.created_by},
                      {"holds", layer.holds},
                      {"packages", layer.packages},
                      {"files", layer.files},
                      {"content_size", layer.content_size}});
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
  nlohmann::json largest = nlohmann::json::array();
  for (const auto& file : report.largest_files) {
    largest.push_back({{"path", json_text(file.path)},
                       {"size", file.size},
                       {"layer", file.layer},
                       {"package", file.package}});
  }
  out["largest_files"] = std::move(largest);
  auto shares_json = [](const std::vector<SizeShare>& shares, bool with_version) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& share : shares) {
      nlohmann::json entry{{with_version ? "name" : "kind", share.name},
                           {"size", share.size},
                           {"files", share.files}};
      if (with_version) {
        entry["version"] = share.version;
      }
      list.push_back(std::move(entry));
    }
    return list;
  };
  out["package_sizes"] = shares_json(report.package_sizes, true);
  out["unpackaged"] = shares_json(report.unpackaged, false);
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
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
  for (const auto& layer : report.layers) {
    compressed += layer.size;
    uncompressed += layer.uncompressed_size;
  }
  out += "Layers (" + std::to_string(report.layers.size()) + ", " + human_size(compressed) +
         " compressed, " + human_size(uncompressed) + " uncompressed):\n";
  out += "  #   digest        compressed  uncompressed   files  holds\n";
  for (size_t i = 0; i < report.layers.size(); ++i) {
    const LayerSummary& layer = report.layers[i];
    std::string digest = layer.digest.substr(layer.digest.find(':') + 1, 12);
    out += "  " + pad(std::to_string(i), 3) + " " + digest + " " +
           right(human_size(layer.size), 11) + " " +
           right(human_size(layer.uncompressed_size), 13) + " " +
           right(std::to_string(layer.files), 7) + "  " + holds_text(layer) + "\n";
  }
  if (!report.largest_files.empty()) {
    out += "Largest files:\n";
    for (const auto& file : report.largest_files) {
      out += "  " + right(human_size(file.size), 10) + "  " + file.path + "  (layer " +
             std::to_string(file.layer) + (file.package.empty() ? "" : ", " + file.package) + ")\n";
    }
  }
  if (!report.package_sizes.empty() || !report.unpackaged.empty()) {
    out += "Size by package (bytes of its files in the image):\n";
    for (const auto& share : report.package_sizes) {
      out += "  " + right(human_size(share.size), 10) + "  " + pad(share.name, 28) + " " +
             pad(share.version, 24) + " " + right(std::to_string(share.files), 6) + " files\n";
    }
    for (const auto& share : report.unpackaged) {
      // "files" is the kind of the layers distill did not make: their files
      // are no other kind's ("(files files, no package)" said nothing).
      std::string label = share.name == "packages" ? "(in package layers, in no file list)"
                          : share.name == "files"  ? "(other files, no package)"
                                                   : "(" + share.name + " files, no package)";
      out += "  " + right(human_size(share.size), 10) + "  " + pad(label, 53) +
             right(std::to_string(share.files), 6) + " files\n";
    }
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
