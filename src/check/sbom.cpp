// SPDX 2.3 and CycloneDX 1.5 JSON documents for an image: see sbom.hpp.
#include "check/sbom.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "check/packages.hpp"
#include "crypto/sha256.hpp"

namespace distill::check {

namespace {

struct SbomPackage {
  PackageRecord record;
  std::string purl;
  std::string license;  // SPDX expression or ""
  std::string sha256;   // .deb, hex, or ""
};

struct SbomFile {
  std::string path;
  std::string sha256;
};

struct SbomData {
  std::string name;
  std::string manifest_digest;
  std::string created;
  std::vector<SbomPackage> packages;
  std::vector<SbomFile> files;
};

// Percent-encodes everything but the purl-safe characters (purl-spec: unreserved).
std::string percent_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof(buffer), "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

// A name-based UUID (version 5 layout) from a sha256 of `seed`.
std::string uuid_from(std::string_view seed) {
  std::string hex = crypto::sha256(seed).hex().substr(0, 32);
  hex[12] = '5';
  const char variants[] = "89ab";
  hex[16] = variants[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string spdx_id_part(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-';
    out += ok ? c : '-';
  }
  return out;
}

// "Name <mail>" -> SPDX "Organization: Name (mail)".
std::string spdx_supplier(const std::string& maintainer) {
  if (maintainer.empty()) {
    return "NOASSERTION";
  }
  std::string name = maintainer;
  std::string mail;
  size_t lt = maintainer.find('<');
  size_t gt = maintainer.find('>', lt == std::string::npos ? 0 : lt);
  if (lt != std::string::npos && gt != std::string::npos) {
    name = maintainer.substr(0, lt);
    mail = maintainer.substr(lt + 1, gt - lt - 1);
    while (!name.empty() && name.back() == ' ') {
      name.pop_back();
    }
  }
  return "Organization: " + name + (mail.empty() ? "" : " (" + mail + ")");
}

Result<SbomData> collect(const ImageView& view, const oci::ImageConfig& config,
                         const std::string& manifest_digest, const SbomOptions& options) {
  SbomData data;
  data.name = options.name.empty() ? "image" : options.name;
  data.manifest_digest = manifest_digest;
  data.created = config.created.empty() ? "1970-01-01T00:00:00Z" : config.created;
  OsRelease os = read_os_release(view);
  std::string distro =
      os.id.empty() ? "" : os.id + (os.version_id.empty() ? "" : "-" + os.version_id);

  DISTILL_TRY(auto records, installed_packages(view));
  std::vector<std::string> copyrights;
  for (const auto& record : records) {
    copyrights.push_back("/usr/share/doc/" + record.name + "/copyright");
  }
  DISTILL_TRY(auto texts, view.read_files(copyrights));
  for (const auto& record : records) {
    SbomPackage package;
    package.record = record;
    package.purl = deb_purl(record.name, record.version, record.arch, distro);
    auto text = texts.find("/usr/share/doc/" + record.name + "/copyright");
    if (text != texts.end()) {
      package.license = copyright_expression(text->second);
    }
    auto sha = options.deb_sha256.find(record.name + ":" + record.arch);
    if (sha == options.deb_sha256.end()) {
      sha = options.deb_sha256.find(record.name);
    }
    if (sha != options.deb_sha256.end()) {
      package.sha256 = sha->second;
    }
    data.packages.push_back(std::move(package));
  }

  // Layers created by a spec's `files:`.
  std::set<size_t> file_layers;
  size_t layer = 0;
  for (const auto& entry : config.history) {
    if (entry.empty_layer) {
      continue;
    }
    if (entry.created_by.rfind("distill: files", 0) == 0) {
      file_layers.insert(layer);
    }
    ++layer;
  }
  if (!file_layers.empty()) {
    auto want = [&](const std::string&, const FileInfo& info) {
      return file_layers.count(info.layer) != 0;
    };
    auto on_content = [&](const std::string& path, const FileInfo&,
                          archive::ContentReader& reader) -> Status {
      crypto::Sha256 sha;
      char buffer[65536];
      while (true) {
        DISTILL_TRY(size_t n, reader.read(buffer, sizeof(buffer)));
        if (n == 0) {
          break;
        }
        sha.update(buffer, n);
      }
      data.files.push_back({path, sha.finish().hex()});
      return {};
    };
    DISTILL_CHECK(view.for_each_content(want, on_content));
    std::sort(data.files.begin(), data.files.end(),
              [](const SbomFile& a, const SbomFile& b) { return a.path < b.path; });
  }
  return data;
}

std::string spdx_json(const SbomData& data, const SbomOptions& options) {
  using nlohmann::json;
  std::string digest_hex = data.manifest_digest.substr(data.manifest_digest.find(':') + 1);
  json image{
      {"SPDXID", "SPDXRef-Image"},
      {"name", data.name},
      {"versionInfo", data.manifest_digest},
      {"downloadLocation", "NOASSERTION"},
      {"filesAnalyzed", false},
      {"primaryPackagePurpose", "CONTAINER"},
      {"licenseConcluded", "NOASSERTION"},
      {"licenseDeclared", "NOASSERTION"},
      {"copyrightText", "NOASSERTION"},
      {"checksums", json::array({{{"algorithm", "SHA256"}, {"checksumValue", digest_hex}}})}};
  json packages = json::array({image});
  json relationships = json::array();
  relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                           {"relationshipType", "DESCRIBES"},
                           {"relatedSpdxElement", "SPDXRef-Image"}});
  std::set<std::string> ids;
  for (const auto& package : data.packages) {
    std::string id = "SPDXRef-Package-deb-" + spdx_id_part(package.record.name) + "-" +
                     spdx_id_part(package.record.arch);
    for (int n = 2; !ids.insert(id).second; ++n) {
      id += "-" + std::to_string(n);
    }
    json entry{{"SPDXID", id},
               {"name", package.record.name},
               {"versionInfo", package.record.version},
               {"supplier", spdx_supplier(package.record.maintainer)},
               {"downloadLocation", "NOASSERTION"},
               {"filesAnalyzed", false},
               {"licenseConcluded", "NOASSERTION"},
               {"licenseDeclared", package.license.empty() ? "NOASSERTION" : package.license},
               {"copyrightText", "NOASSERTION"},
               {"externalRefs", json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                              {"referenceType", "purl"},
                                              {"referenceLocator", package.purl}}})}};
    std::string source =
        package.record.source.empty() ? package.record.name : package.record.source;
    std::string source_version = package.record.source_version.empty()
                                     ? package.record.version
                                     : package.record.source_version;
    entry["sourceInfo"] = "built package from: " + source + " " + source_version;
    if (!package.sha256.empty()) {
      entry["checksums"] =
          json::array({{{"algorithm", "SHA256"}, {"checksumValue", package.sha256}}});
    }
    packages.push_back(std::move(entry));
    relationships.push_back({{"spdxElementId", "SPDXRef-Image"},
                             {"relationshipType", "CONTAINS"},
                             {"relatedSpdxElement", id}});
  }
  json files = json::array();
  for (size_t i = 0; i < data.files.size(); ++i) {
    std::string id = "SPDXRef-File-" + std::to_string(i + 1);
    files.push_back({{"SPDXID", id},
                     {"fileName", "." + data.files[i].path},
                     {"checksums", json::array({{{"algorithm", "SHA256"},
                                                 {"checksumValue", data.files[i].sha256}}})},
                     {"licenseConcluded", "NOASSERTION"},
                     {"copyrightText", "NOASSERTION"}});
    relationships.push_back({{"spdxElementId", "SPDXRef-Image"},
                             {"relationshipType", "CONTAINS"},
                             {"relatedSpdxElement", id}});
  }
  json document{{"spdxVersion", "SPDX-2.3"},
                {"dataLicense", "CC0-1.0"},
                {"SPDXID", "SPDXRef-DOCUMENT"},
                {"name", data.name},
                {"documentNamespace",
                 "urn:uuid:" + uuid_from("distill-spdx:" + data.name + "@" + data.manifest_digest)},
                {"creationInfo",
                 {{"created", data.created},
                  {"creators", json::array({"Tool: distill-" + options.tool_version})}}},
                {"documentDescribes", json::array({"SPDXRef-Image"})},
                {"packages", packages},
                {"relationships", relationships}};
  if (!files.empty()) {
    document["files"] = files;
  }
  return document.dump(2) + "\n";
}

std::string cyclonedx_json(const SbomData& data, const SbomOptions& options) {
  using nlohmann::json;
  std::string digest_hex = data.manifest_digest.substr(data.manifest_digest.find(':') + 1);
  const std::string image_ref = "image:" + data.manifest_digest;
  json components = json::array();
  json depends = json::array();
  std::set<std::string> refs;
  for (const auto& package : data.packages) {
    std::string ref = package.purl;
    for (int n = 2; !refs.insert(ref).second; ++n) {
      ref = package.purl + "#" + std::to_string(n);
    }
    json entry{{"bom-ref", ref},
               {"type", "library"},
               {"name", package.record.name},
               {"version", package.record.version},
               {"purl", package.purl}};
    if (!package.record.maintainer.empty()) {
      entry["supplier"] = {{"name", package.record.maintainer}};
    }
    if (!package.license.empty()) {
      entry["licenses"] = json::array({{{"expression", package.license}}});
    }
    if (!package.sha256.empty()) {
      entry["hashes"] = json::array({{{"alg", "SHA-256"}, {"content", package.sha256}}});
    }
    std::string source =
        package.record.source.empty() ? package.record.name : package.record.source;
    entry["properties"] =
        json::array({{{"name", "distill:package:source"}, {"value", source}},
                     {{"name", "distill:package:arch"}, {"value", package.record.arch}}});
    components.push_back(std::move(entry));
    depends.push_back(ref);
  }
  for (const auto& file : data.files) {
    std::string ref = "file:" + file.path;
    components.push_back(
        {{"bom-ref", ref},
         {"type", "file"},
         {"name", file.path},
         {"hashes", json::array({{{"alg", "SHA-256"}, {"content", file.sha256}}})}});
    depends.push_back(ref);
  }
  // Every component appears in the graph; those without dependencies of their own
  // with an empty dependsOn (CycloneDX 1.5 "dependencies").
  json dependencies = json::array({{{"ref", image_ref}, {"dependsOn", depends}}});
  for (const auto& ref : depends) {
    dependencies.push_back({{"ref", ref}, {"dependsOn", json::array()}});
  }
  json document{{"bomFormat", "CycloneDX"},
                {"specVersion", "1.5"},
                {"serialNumber", "urn:uuid:" + uuid_from("distill-cyclonedx:" + data.name + "@" +
                                                         data.manifest_digest)},
                {"version", 1},
                {"metadata",
                 {{"timestamp", data.created},
                  {"tools",
                   {{"components", json::array({{{"type", "application"},
                                                 {"name", "distill"},
                                                 {"version", options.tool_version}}})}}},
                  {"component",
                   {{"bom-ref", image_ref},
                    {"type", "container"},
                    {"name", data.name},
                    {"version", data.manifest_digest},
                    {"hashes", json::array({{{"alg", "SHA-256"}, {"content", digest_hex}}})}}}}},
                {"components", components},
                {"dependencies", dependencies}};
  return document.dump(2) + "\n";
}

}  // namespace

Result<SbomFormat> parse_sbom_format(std::string_view name) {
  if (name == "spdx-json" || name == "spdx") {
    return SbomFormat::SpdxJson;
  }
  if (name == "cyclonedx-json" || name == "cyclonedx") {
    return SbomFormat::CycloneDxJson;
  }
  return make_error(ErrorKind::InvalidInput, "unknown SBOM format \"" + std::string(name) +
                                                 "\" (use spdx-json or cyclonedx-json)");
}

std::string sbom_media_type(SbomFormat format) {
  return format == SbomFormat::SpdxJson ? "application/spdx+json"
                                        : "application/vnd.cyclonedx+json";
}

std::string deb_purl(const std::string& name, const std::string& version, const std::string& arch,
                     const std::string& distro) {
  std::string out = "pkg:deb/debian/" + percent_encode(name) + "@" + percent_encode(version);
  out += "?arch=" + percent_encode(arch);
  if (!distro.empty()) {
    out += "&distro=" + percent_encode(distro);
  }
  return out;
}

Result<std::string> make_sbom(const ImageView& view, const oci::ImageConfig& config,
                              const std::string& manifest_digest, SbomFormat format,
                              const SbomOptions& options) {
  DISTILL_TRY(SbomData data, collect(view, config, manifest_digest, options));
  return format == SbomFormat::SpdxJson ? spdx_json(data, options) : cyclonedx_json(data, options);
}

}  // namespace distill::check
