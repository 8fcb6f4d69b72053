// Image manifest and index JSON (OCI image-spec manifest.md, image-index.md;
// Docker manifest v2 schema 2 and manifest list are read the same way).
#include "oci/manifest.hpp"

#include <nlohmann/json.hpp>

#include "oci/json_util.hpp"

namespace distill::oci {

namespace {

Status check_schema_version(const nlohmann::json& json, const std::string& origin) {
  auto version = json.find("schemaVersion");
  if (version == json.end() || !version->is_number_integer() || version->get<int64_t>() != 2) {
    return detail::corrupt(origin, "\"schemaVersion\" must be 2");
  }
  return {};
}

Result<std::vector<Descriptor>> descriptor_array(const nlohmann::json& json, const char* key,
                                                 const std::string& origin, bool required) {
  std::vector<Descriptor> descriptors;
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) {
    if (required) {
      return detail::corrupt(origin, std::string("missing \"") + key + "\"");
    }
    return descriptors;
  }
  if (!it->is_array()) {
    return detail::corrupt(origin, std::string("\"") + key + "\" must be an array");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    DISTILL_TRY(Descriptor descriptor, descriptor_from_json((*it)[i], origin + ": " + key + "[" +
                                                                          std::to_string(i) + "]"));
    descriptors.push_back(std::move(descriptor));
  }
  return descriptors;
}

}  // namespace

std::string Manifest::to_json() const {
  nlohmann::json json = nlohmann::json::object();
  json["schemaVersion"] = 2;
  json["mediaType"] = media_type;
  if (!artifact_type.empty()) {
    json["artifactType"] = artifact_type;
  }
  json["config"] = oci::to_json(config);
  nlohmann::json layer_array = nlohmann::json::array();
  for (const auto& layer : layers) {
    layer_array.push_back(oci::to_json(layer));
  }
  json["layers"] = std::move(layer_array);
  if (subject) {
    json["subject"] = oci::to_json(*subject);
  }
  if (!annotations.empty()) {
    json["annotations"] = annotations;
  }
  return detail::dump(json);
}

Result<Manifest> Manifest::parse(std::string_view text, const std::string& origin) {
  DISTILL_TRY(nlohmann::json json, detail::parse_object(text, origin));
  DISTILL_CHECK(check_schema_version(json, origin));
  Manifest manifest;
  DISTILL_TRY(manifest.media_type, detail::get_string(json, "mediaType", origin));
  if (manifest.media_type.empty()) {
    // mediaType is optional in OCI 1.0 manifests.
    manifest.media_type = std::string(k_media_oci_manifest);
  } else if (!is_manifest_media_type(manifest.media_type)) {
    return detail::corrupt(origin,
                           "not an image manifest (mediaType \"" + manifest.media_type + "\")");
  }
  auto config = json.find("config");
  if (config == json.end()) {
    return detail::corrupt(origin, "missing \"config\"");
  }
  DISTILL_TRY(manifest.config, descriptor_from_json(*config, origin + ": config"));
  DISTILL_TRY(manifest.layers, descriptor_array(json, "layers", origin, true));
  DISTILL_TRY(manifest.annotations, detail::get_string_map(json, "annotations", origin));
  DISTILL_TRY(manifest.artifact_type, detail::get_string(json, "artifactType", origin));
  auto subject = json.find("subject");
  if (subject != json.end() && !subject->is_null()) {
    DISTILL_TRY(Descriptor value, descriptor_from_json(*subject, origin + ": subject"));
    manifest.subject = std::move(value);
  }
  return manifest;
}

std::string Index::to_json() const {
  nlohmann::json json = nlohmann::json::object();
  json["schemaVersion"] = 2;
  if (!media_type.empty()) {
    json["mediaType"] = media_type;
  }
  nlohmann::json manifest_array = nlohmann::json::array();
  for (const auto& manifest : manifests) {
    manifest_array.push_back(oci::to_json(manifest));
  }
  json["manifests"] = std::move(manifest_array);
  if (!annotations.empty()) {
    json["annotations"] = annotations;
  }
  return detail::dump(json);
}

Result<Index> Index::parse(std::string_view text, const std::string& origin) {
  DISTILL_TRY(nlohmann::json json, detail::parse_object(text, origin));
  DISTILL_CHECK(check_schema_version(json, origin));
  Index index;
  DISTILL_TRY(index.media_type, detail::get_string(json, "mediaType", origin));
  if (index.media_type.empty()) {
    index.media_type = std::string(k_media_oci_index);
  } else if (!is_index_media_type(index.media_type)) {
    return detail::corrupt(origin, "not an image index (mediaType \"" + index.media_type + "\")");
  }
  DISTILL_TRY(index.manifests, descriptor_array(json, "manifests", origin, true));
  DISTILL_TRY(index.annotations, detail::get_string_map(json, "annotations", origin));
  return index;
}

Result<std::string> sniff_media_type(std::string_view text, const std::string& origin) {
  DISTILL_TRY(nlohmann::json json, detail::parse_object(text, origin));
  DISTILL_TRY(std::string media_type, detail::get_string(json, "mediaType", origin));
  if (media_type.empty()) {
    // An OCI 1.0 document without mediaType: tell them apart by their fields.
    if (json.contains("manifests")) {
      return std::string(k_media_oci_index);
    }
    if (json.contains("config")) {
      return std::string(k_media_oci_manifest);
    }
  }
  return media_type;
}

}  // namespace distill::oci
