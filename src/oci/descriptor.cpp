// Descriptor / Platform JSON (OCI image-spec descriptor.md, image-index.md) and
// the Debian architecture -> OCI platform mapping.
#include "oci/descriptor.hpp"

#include <nlohmann/json.hpp>
#include <vector>

#include "oci/json_util.hpp"

namespace distill::oci {

std::string Platform::str() const {
  std::string text = os + "/" + architecture;
  if (!variant.empty()) {
    text += "/" + variant;
  }
  return text;
}

Platform platform_for_debian_arch(std::string_view debian_arch) {
  Platform platform;
  if (debian_arch == "arm64") {
    platform.architecture = "arm64";
    platform.variant = "v8";
  } else if (debian_arch == "armhf") {
    platform.architecture = "arm";
    platform.variant = "v7";
  } else if (debian_arch == "armel") {
    platform.architecture = "arm";
    platform.variant = "v5";
  } else if (debian_arch == "i386") {
    platform.architecture = "386";
  } else if (debian_arch == "ppc64el") {
    platform.architecture = "ppc64le";
  } else if (debian_arch == "mips64el") {
    platform.architecture = "mips64le";
  } else if (debian_arch == "mipsel") {
    platform.architecture = "mipsle";
  } else {
    // amd64, s390x, riscv64 and anything else keep their name.
    platform.architecture = std::string(debian_arch);
  }
  return platform;
}

std::string debian_arch_for_platform(const Platform& platform) {
  const std::string& arch = platform.architecture;
  if (arch == "arm") {
    return platform.variant == "v5" || platform.variant == "v6" ? "armel" : "armhf";
  }
  if (arch == "386") {
    return "i386";
  }
  if (arch == "ppc64le") {
    return "ppc64el";
  }
  if (arch == "mips64le") {
    return "mips64el";
  }
  if (arch == "mipsle") {
    return "mipsel";
  }
  return arch;
}

Result<Platform> parse_platform(std::string_view text) {
  Platform platform;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  bool empty_part = false;
  for (const auto& part : parts) {
    empty_part = empty_part || part.empty();
  }
  if (parts.size() < 2 || parts.size() > 3 || empty_part) {
    return make_error(ErrorKind::InvalidInput, "invalid platform '" + std::string(text) +
                                                   "' (expected OS/ARCH or OS/ARCH/VARIANT, "
                                                   "e.g. linux/arm64)");
  }
  platform.os = parts[0];
  platform.architecture = parts[1];
  if (parts.size() == 3) {
    platform.variant = parts[2];
  }
  return platform;
}

Descriptor describe(std::string_view data, std::string media_type) {
  Descriptor descriptor;
  descriptor.media_type = std::move(media_type);
  descriptor.digest = crypto::sha256(data);
  descriptor.size = data.size();
  return descriptor;
}

nlohmann::json to_json(const Platform& platform) {
  nlohmann::json json = nlohmann::json::object();
  json["architecture"] = platform.architecture;
  json["os"] = platform.os;
  if (!platform.variant.empty()) {
    json["variant"] = platform.variant;
  }
  return json;
}

nlohmann::json to_json(const Descriptor& descriptor) {
  nlohmann::json json = nlohmann::json::object();
  json["mediaType"] = descriptor.media_type;
  json["digest"] = descriptor.digest.str();
  json["size"] = descriptor.size;
  if (!descriptor.annotations.empty()) {
    json["annotations"] = descriptor.annotations;
  }
  if (descriptor.platform) {
    json["platform"] = to_json(*descriptor.platform);
  }
  if (!descriptor.artifact_type.empty()) {
    json["artifactType"] = descriptor.artifact_type;
  }
  return json;
}

Result<Platform> platform_from_json(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) {
    return detail::corrupt(where, "platform must be an object");
  }
  Platform platform;
  DISTILL_TRY(platform.architecture, detail::get_string(json, "architecture", where));
  DISTILL_TRY(platform.os, detail::get_string(json, "os", where));
  DISTILL_TRY(platform.variant, detail::get_string(json, "variant", where));
  return platform;
}

Result<Descriptor> descriptor_from_json(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) {
    return detail::corrupt(where, "descriptor must be an object");
  }
  Descriptor descriptor;
  DISTILL_TRY(descriptor.media_type, detail::get_string(json, "mediaType", where));
  DISTILL_TRY(std::string digest, detail::get_string(json, "digest", where));
  auto parsed = crypto::Digest::parse(digest);
  if (!parsed.ok()) {
    return detail::corrupt(where, "bad digest \"" + digest + "\"");
  }
  descriptor.digest = *parsed;
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() ||
      (size->is_number_integer() && !size->is_number_unsigned() && size->get<int64_t>() < 0)) {
    return detail::corrupt(where, "\"size\" must be a non-negative integer");
  }
  descriptor.size = size->get<uint64_t>();
  DISTILL_TRY(descriptor.annotations, detail::get_string_map(json, "annotations", where));
  DISTILL_TRY(descriptor.artifact_type, detail::get_string(json, "artifactType", where));
  auto platform = json.find("platform");
  if (platform != json.end() && !platform->is_null()) {
    DISTILL_TRY(Platform value, platform_from_json(*platform, where));
    descriptor.platform = std::move(value);
  }
  return descriptor;
}

}  // namespace distill::oci
