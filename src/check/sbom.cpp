// SPDX 2.3 and CycloneDX 1.5 JSON documents for an image: see sbom.hpp.
#include "check/sbom.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "check/debian_licenses.hpp"
#include "check/packages.hpp"
#include "crypto/sha256.hpp"
#include "debian/relation.hpp"

namespace distill::check {

namespace {

struct SbomPackage {
  PackageRecord record;
  std::string source;  // source package name (the package's own when it has no Source:)
  std::string purl;
  std::string license;          // SPDX expression or "" (no copyright file)
  std::string sha256;           // .deb, hex, or ""
  std::vector<size_t> depends;  // indexes into SbomData::packages, sorted
};

struct SbomFile {
  std::string path;
  std::string sha256;
  std::string sha1;
};

struct SbomArchive {
  ArchiveRecord record;
  std::string purl;   // "" without a name and version
  std::string label;  // the name, else the URL's file name
};

struct SbomData {
  std::string name;
  std::string manifest_digest;
  std::string created;
  OsRelease os;
  std::vector<SbomPackage> packages;
  std::vector<SbomFile> files;
  std::vector<SbomArchive> archives;
  std::vector<ExtractedLicense> extracted;  // every LicenseRef used, once, by id
};

bool purl_safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Percent-encodes everything but the purl-safe characters and `keep`.
std::string percent_encode(std::string_view text, std::string_view keep = {}) {
  std::string out;
  for (unsigned char c : text) {
    if (purl_safe(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
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

// Replaces the whole-token occurrences of `from` in an SPDX expression.
std::string replace_token(const std::string& expression, const std::string& from,
                          const std::string& to) {
  std::string out;
  size_t start = 0;
  while (start <= expression.size()) {
    size_t end = expression.find_first_of(" ()", start);
    if (end == std::string::npos) {
      end = expression.size();
    }
    std::string token = expression.substr(start, end - start);
    out += token == from ? to : token;
    if (end == expression.size()) {
      break;
    }
    out += expression[end];
    start = end + 1;
  }
  return out;
}

// Adds a package's LicenseRefs to the document's list. The same id with another
// text (two packages' "public-domain" paragraphs differ) gets a numbered id, which
// is then used in the package's expression.
std::string merge_extracted(std::vector<ExtractedLicense>& document,
                            const CopyrightLicenses& licenses) {
  std::string expression = licenses.expression;
  for (const auto& license : licenses.extracted) {
    std::string id = license.id;
    for (int n = 2;; ++n) {
      auto same = std::find_if(document.begin(), document.end(),
                               [&](const ExtractedLicense& e) { return e.id == id; });
      if (same == document.end()) {
        ExtractedLicense added = license;
        added.id = id;
        document.push_back(std::move(added));
        break;
      }
      if (same->text == license.text) {
        break;
      }
      id = license.id + "-" + std::to_string(n);
    }
    if (id != license.id) {
      expression = replace_token(expression, license.id, id);
    }
  }
  return expression;
}

// What each package needs among those installed: for each group of its
// Pre-Depends and Depends, the first alternative installed under its own name,
// else an installed package that Provides it. Groups nothing installed satisfies
// (packages a flavor excludes, like debconf) add nothing.
Status resolve_dependencies(std::vector<SbomPackage>& packages) {
  std::map<std::string, std::vector<size_t>> by_name;
  std::map<std::string, std::vector<size_t>> providers;
  for (size_t i = 0; i < packages.size(); ++i) {
    const PackageRecord& record = packages[i].record;
    by_name[record.name].push_back(i);
    auto provided = debian::parse_relations(record.provides);
    if (!provided.ok()) {
      return provided.error().context(record.status_file + ": package " + record.name +
                                      ": Provides");
    }
    for (const auto& group : *provided) {
      for (const auto& relation : group.alternatives) {
        providers[relation.name].push_back(i);
      }
    }
  }
  // Among same-named packages of several architectures, the dependent's own or "all".
  auto pick = [&](const std::vector<size_t>& candidates, const std::string& arch) -> size_t {
    for (size_t index : candidates) {
      const std::string& other = packages[index].record.arch;
      if (other == arch || other == "all") {
        return index;
      }
    }
    return candidates.front();
  };
  for (size_t i = 0; i < packages.size(); ++i) {
    const PackageRecord& record = packages[i].record;
    std::set<size_t> needs;
    for (const auto& [field, value] :
         {std::pair{"Pre-Depends", &record.pre_depends}, std::pair{"Depends", &record.depends}}) {
      auto groups = debian::parse_relations(*value);
      if (!groups.ok()) {
        return groups.error().context(record.status_file + ": package " + record.name + ": " +
                                      field);
      }
      for (const auto& group : *groups) {
        std::optional<size_t> found;
        for (const auto& relation : group.alternatives) {
          if (auto it = by_name.find(relation.name); it != by_name.end()) {
            found = pick(it->second, record.arch);
            break;
          }
        }
        if (!found) {
          for (const auto& relation : group.alternatives) {
            if (auto it = providers.find(relation.name); it != providers.end()) {
              found = pick(it->second, record.arch);
              break;
            }
          }
        }
        if (found && *found != i) {
          needs.insert(*found);
        }
      }
    }
    packages[i].depends.assign(needs.begin(), needs.end());
  }
  return {};
}

}  // namespace

bool sbom_reads(std::string_view tar_path) {
  return tar_path == "etc/os-release" || tar_path == "usr/lib/os-release" ||
         is_package_record(tar_path, false) || is_archive_record(tar_path) ||
         is_copyright_file(tar_path);
}

namespace {

// The layers a spec's `files:` created, by index.
std::set<size_t> files_layers(const oci::ImageConfig& config) {
  std::set<size_t> layers;
  size_t layer = 0;
  for (const auto& entry : config.history) {
    if (entry.empty_layer) {
      continue;
    }
    if (entry.created_by.rfind("distill: files", 0) == 0) {
      layers.insert(layer);
    }
    ++layer;
  }
  return layers;
}

Result<SbomFileScan::Hashes> hash_content(archive::ContentReader& reader) {
  crypto::Sha256 sha256;
  crypto::Sha1 sha1;
  char buffer[65536];
  while (true) {
    DISTILL_TRY(std::string_view piece, reader.read_view(buffer, sizeof(buffer)));
    if (piece.empty()) {
      break;
    }
    sha256.update(piece);
    sha1.update(piece);
  }
  return SbomFileScan::Hashes{sha256.finish().hex(), sha1.finish_hex()};
}

Result<SbomData> collect(const ImageView& view, const oci::ImageConfig& config,
                         const std::string& manifest_digest, const SbomOptions& options,
                         const SbomFileScan* scanned) {
  SbomData data;
  data.name = options.name.empty() ? "image" : options.name;
  data.manifest_digest = manifest_digest;
  data.created = config.created.empty() ? "1970-01-01T00:00:00Z" : config.created;
  // Every small file read below, at most one more pass over the layers that
  // hold them; none when the view kept them while it was folded.
  DISTILL_CHECK(view.prefetch(sbom_reads));
  data.os = read_os_release(view);
  std::string distro =
      data.os.id.empty()
          ? ""
          : data.os.id + (data.os.version_id.empty() ? "" : "-" + data.os.version_id);

  DISTILL_TRY(auto records, installed_packages(view));
  std::vector<std::string> copyrights;
  for (const auto& record : records) {
    copyrights.push_back("/usr/share/doc/" + record.name + "/copyright");
  }
  DISTILL_TRY(auto texts, view.read_files(copyrights));
  for (const auto& record : records) {
    SbomPackage package;
    package.record = record;
    package.source = record.source.empty() ? record.name : record.source;
    package.purl = deb_purl(record.name, record.version, record.arch, package.source, distro);
    std::string path = "/usr/share/doc/" + record.name + "/copyright";
    auto text = texts.find(path);
    if (text != texts.end()) {
      package.license =
          merge_extracted(data.extracted, copyright_licenses(text->second, path, record.name));
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
  DISTILL_CHECK(resolve_dependencies(data.packages));
  DISTILL_TRY(auto archives, installed_archives(view));
  for (auto& record : archives) {
    SbomArchive archive;
    archive.label = record.name;
    if (archive.label.empty()) {
      std::string_view url = record.url;
      archive.label = std::string(url.substr(url.rfind('/') + 1));
    }
    if (!record.name.empty() && !record.version.empty()) {
      archive.purl = generic_purl(record.name, record.version, record.url);
    }
    archive.record = std::move(record);
    data.archives.push_back(std::move(archive));
  }
  std::sort(data.extracted.begin(), data.extracted.end(),
            [](const ExtractedLicense& a, const ExtractedLicense& b) { return a.id < b.id; });

  // The files of the layers a spec's `files:` created: those the scan saw
  // from it, the rest read now.
  const std::set<size_t> file_layers = files_layers(config);
  if (!file_layers.empty()) {
    auto want = [&](const std::string& path, const FileInfo& info) {
      if (file_layers.count(info.layer) == 0) {
        return false;
      }
      const SbomFileScan::Hashes* found =
          scanned != nullptr ? scanned->find(info.layer, info.entry) : nullptr;
      if (found != nullptr) {
        data.files.push_back({path, found->sha256, found->sha1});
      }
      return found == nullptr;
    };
    auto on_content = [&](const std::string& path, const FileInfo&,
                          archive::ContentReader& reader) -> Status {
      DISTILL_TRY(SbomFileScan::Hashes hashes, hash_content(reader));
      data.files.push_back({path, std::move(hashes.sha256), std::move(hashes.sha1)});
      return {};
    };
    DISTILL_CHECK(view.for_each_content(want, on_content));
    std::sort(data.files.begin(), data.files.end(),
              [](const SbomFile& a, const SbomFile& b) { return a.path < b.path; });
  }
  return data;
}

// SPDX 2.3 §7.9: the SHA-1 of the sorted SHA-1s of the package's files, concatenated.
std::string package_verification_code(const std::vector<SbomFile>& files) {
  std::vector<std::string> sums;
  for (const auto& file : files) {
    sums.push_back(file.sha1);
  }
  std::sort(sums.begin(), sums.end());
  crypto::Sha1 sha1;
  for (const auto& sum : sums) {
    sha1.update(sum);
  }
  return sha1.finish_hex();
}

std::string spdx_json(const SbomData& data, const SbomOptions& options) {
  using nlohmann::json;
  std::string digest_hex = data.manifest_digest.substr(data.manifest_digest.find(':') + 1);
  json relationships = json::array();
  relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                           {"relationshipType", "DESCRIBES"},
                           {"relatedSpdxElement", "SPDXRef-Image"}});
  std::set<std::string> ids;
  std::vector<std::string> package_ids;
  for (const auto& package : data.packages) {
    std::string id = "SPDXRef-Package-deb-" + spdx_id_part(package.record.name) + "-" +
                     spdx_id_part(package.record.arch);
    for (int n = 2; !ids.insert(id).second; ++n) {
      id += "-" + std::to_string(n);
    }
    package_ids.push_back(id);
  }
  json packages = json::array();
  for (size_t i = 0; i < data.packages.size(); ++i) {
    const auto& package = data.packages[i];
    const std::string& id = package_ids[i];
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
    std::string source_version = package.record.source_version.empty()
                                     ? package.record.version
                                     : package.record.source_version;
    entry["sourceInfo"] = "built package from: " + package.source + " " + source_version;
    if (!package.sha256.empty()) {
      entry["checksums"] =
          json::array({{{"algorithm", "SHA256"}, {"checksumValue", package.sha256}}});
    }
    packages.push_back(std::move(entry));
    relationships.push_back({{"spdxElementId", "SPDXRef-Image"},
                             {"relationshipType", "CONTAINS"},
                             {"relatedSpdxElement", id}});
  }
  for (size_t i = 0; i < data.packages.size(); ++i) {
    for (size_t dependency : data.packages[i].depends) {
      relationships.push_back({{"spdxElementId", package_ids[i]},
                               {"relationshipType", "DEPENDS_ON"},
                               {"relatedSpdxElement", package_ids[dependency]}});
    }
  }
  for (size_t i = 0; i < data.archives.size(); ++i) {
    const auto& archive = data.archives[i];
    std::string id = "SPDXRef-Archive-" + spdx_id_part(archive.label) + "-" +
                     archive.record.sha256.substr(0, 12);
    for (int n = 2; !ids.insert(id).second; ++n) {
      id += "-" + std::to_string(n);
    }
    json entry{{"SPDXID", id},
               {"name", archive.label},
               {"downloadLocation", archive.record.url},
               {"filesAnalyzed", false},
               {"licenseConcluded", "NOASSERTION"},
               {"licenseDeclared", "NOASSERTION"},
               {"copyrightText", "NOASSERTION"},
               {"checksums",
                json::array({{{"algorithm", "SHA256"}, {"checksumValue", archive.record.sha256}}})},
               {"comment", "unpacked at " + archive.record.dst}};
    if (!archive.record.version.empty()) {
      entry["versionInfo"] = archive.record.version;
    }
    if (!archive.purl.empty()) {
      entry["externalRefs"] = json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                            {"referenceType", "purl"},
                                            {"referenceLocator", archive.purl}}});
    }
    packages.push_back(std::move(entry));
    relationships.push_back({{"spdxElementId", "SPDXRef-Image"},
                             {"relationshipType", "CONTAINS"},
                             {"relatedSpdxElement", id}});
  }
  json files = json::array();
  json file_ids = json::array();
  for (size_t i = 0; i < data.files.size(); ++i) {
    std::string id = "SPDXRef-File-" + std::to_string(i + 1);
    files.push_back(
        {{"SPDXID", id},
         {"fileName", "." + data.files[i].path},
         {"checksums",
          json::array({{{"algorithm", "SHA1"}, {"checksumValue", data.files[i].sha1}},
                       {{"algorithm", "SHA256"}, {"checksumValue", data.files[i].sha256}}})},
         {"licenseConcluded", "NOASSERTION"},
         {"copyrightText", "NOASSERTION"}});
    file_ids.push_back(id);
    relationships.push_back({{"spdxElementId", "SPDXRef-Image"},
                             {"relationshipType", "CONTAINS"},
                             {"relatedSpdxElement", id}});
  }
  // The image package lists its application files (hasFiles, CONTAINS), so its
  // files are analyzed and it carries their verification code; the Debian
  // packages list none of theirs (filesAnalyzed false).
  json image{
      {"SPDXID", "SPDXRef-Image"},
      {"name", data.name},
      {"versionInfo", data.manifest_digest},
      {"downloadLocation", "NOASSERTION"},
      {"filesAnalyzed", !data.files.empty()},
      {"primaryPackagePurpose", "CONTAINER"},
      {"licenseConcluded", "NOASSERTION"},
      {"licenseDeclared", "NOASSERTION"},
      {"copyrightText", "NOASSERTION"},
      {"checksums", json::array({{{"algorithm", "SHA256"}, {"checksumValue", digest_hex}}})}};
  if (!data.files.empty()) {
    image["packageVerificationCode"] = {
        {"packageVerificationCodeValue", package_verification_code(data.files)}};
    image["hasFiles"] = file_ids;
  }
  packages.insert(packages.begin(), std::move(image));
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
  if (!data.extracted.empty()) {
    json extracted = json::array();
    for (const auto& license : data.extracted) {
      extracted.push_back(
          {{"licenseId", license.id}, {"name", license.name}, {"extractedText", license.text}});
    }
    document["hasExtractedLicensingInfos"] = extracted;
  }
  return document.dump(2) + "\n";
}

std::string cyclonedx_json(const SbomData& data, const SbomOptions& options) {
  using nlohmann::json;
  std::string digest_hex = data.manifest_digest.substr(data.manifest_digest.find(':') + 1);
  const std::string image_ref = "image:" + data.manifest_digest;
  json components = json::array();
  std::vector<std::string> contained;
  std::string os_ref;
  if (!data.os.id.empty()) {
    // The distribution, as scanners report it (name "debian", version "12").
    std::string version = data.os.version_id.empty() ? "unknown" : data.os.version_id;
    os_ref = "os:" + data.os.id + "@" + version;
    json os{{"bom-ref", os_ref},
            {"type", "operating-system"},
            {"name", data.os.id},
            {"version", version}};
    if (!data.os.pretty_name.empty()) {
      os["description"] = data.os.pretty_name;
    }
    components.push_back(std::move(os));
    contained.push_back(os_ref);
  }
  std::vector<std::string> package_refs;
  std::set<std::string> refs;
  for (const auto& package : data.packages) {
    std::string ref = package.purl;
    for (int n = 2; !refs.insert(ref).second; ++n) {
      ref = package.purl + "#" + std::to_string(n);
    }
    package_refs.push_back(ref);
  }
  for (size_t i = 0; i < data.packages.size(); ++i) {
    const auto& package = data.packages[i];
    json entry{{"bom-ref", package_refs[i]},
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
    entry["properties"] =
        json::array({{{"name", "distill:package:source"}, {"value", package.source}},
                     {{"name", "distill:package:arch"}, {"value", package.record.arch}}});
    components.push_back(std::move(entry));
    contained.push_back(package_refs[i]);
  }
  std::vector<std::string> archive_refs;
  for (const auto& archive : data.archives) {
    std::string ref = "archive:" + archive.record.sha256;
    for (int n = 2; !refs.insert(ref).second; ++n) {
      ref = "archive:" + archive.record.sha256 + "#" + std::to_string(n);
    }
    json entry{{"bom-ref", ref},
               {"type", "application"},
               {"name", archive.label},
               {"hashes", json::array({{{"alg", "SHA-256"}, {"content", archive.record.sha256}}})},
               {"externalReferences",
                json::array({{{"type", "distribution"}, {"url", archive.record.url}}})},
               {"properties",
                json::array({{{"name", "distill:archive:dst"}, {"value", archive.record.dst}}})}};
    if (!archive.record.version.empty()) {
      entry["version"] = archive.record.version;
    }
    if (!archive.purl.empty()) {
      entry["purl"] = archive.purl;
    }
    components.push_back(std::move(entry));
    contained.push_back(ref);
    archive_refs.push_back(ref);
  }
  for (const auto& file : data.files) {
    std::string ref = "file:" + file.path;
    components.push_back(
        {{"bom-ref", ref},
         {"type", "file"},
         {"name", file.path},
         {"hashes", json::array({{{"alg", "SHA-1"}, {"content", file.sha1}},
                                 {{"alg", "SHA-256"}, {"content", file.sha256}}})}});
    contained.push_back(ref);
  }
  // The image depends on everything it holds; each package on what its Depends
  // and Pre-Depends resolved to in the image; the rest on nothing.
  json dependencies = json::array({{{"ref", image_ref}, {"dependsOn", contained}}});
  if (!os_ref.empty()) {
    dependencies.push_back({{"ref", os_ref}, {"dependsOn", json::array()}});
  }
  for (size_t i = 0; i < data.packages.size(); ++i) {
    json needs = json::array();
    for (size_t dependency : data.packages[i].depends) {
      needs.push_back(package_refs[dependency]);
    }
    dependencies.push_back({{"ref", package_refs[i]}, {"dependsOn", needs}});
  }
  for (const auto& ref : archive_refs) {
    dependencies.push_back({{"ref", ref}, {"dependsOn", json::array()}});
  }
  for (const auto& file : data.files) {
    dependencies.push_back({{"ref", "file:" + file.path}, {"dependsOn", json::array()}});
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

std::string generic_purl(const std::string& name, const std::string& version,
                         const std::string& download_url) {
  return "pkg:generic/" + percent_encode(name) + "@" + percent_encode(version, "+") +
         "?download_url=" + percent_encode(download_url);
}

std::string deb_purl(const std::string& name, const std::string& version, const std::string& arch,
                     const std::string& source, const std::string& distro) {
  // The version keeps ':' (epoch) and '+' as written, like packageurl-js and the
  // scanners; the name encodes '+' ("libstdc%2B%2B6") as the reference libraries do.
  std::string out = "pkg:deb/debian/" + percent_encode(name) + "@" + percent_encode(version, ":+");
  out += "?arch=" + percent_encode(arch);
  if (!source.empty()) {
    out += "&upstream=" + percent_encode(source);
  }
  if (!distro.empty()) {
    out += "&distro=" + percent_encode(distro);
  }
  return out;
}

std::string sbom_document_name(const oci::ImageRef& ref) {
  using Transport = oci::ImageRef::Transport;
  auto base = [](const std::filesystem::path& path, bool stem) {
    std::filesystem::path normal = path.lexically_normal();
    if (!normal.has_filename() && normal.has_parent_path()) {
      normal = normal.parent_path();  // "out/" -> "out"
    }
    std::string name = (stem ? normal.stem() : normal.filename()).string();
    return name.empty() || name == "." || name == ".." ? std::string("image") : name;
  };
  switch (ref.transport) {
    case Transport::OciLayout:
      return base(ref.path, false) + ":" + ref.tag;
    case Transport::OciArchive:
      return base(ref.path, true) + ":" + ref.tag;
    case Transport::DockerArchive:
      if (!ref.name.empty()) {
        return ref.name + ":" + (ref.tag.empty() ? std::string("latest") : ref.tag);
      }
      return base(ref.path, true) + (ref.tag.empty() ? "" : ":" + ref.tag);
    case Transport::Registry: {
      std::string text = ref.registry + "/" + ref.name;
      if (!ref.tag.empty()) {
        text += ":" + ref.tag;
      }
      if (!ref.digest.empty()) {
        text += "@" + ref.digest;
      }
      return text;
    }
  }
  return "image";
}

SbomFileScan::SbomFileScan(const oci::ImageConfig& config) : m_layers(files_layers(config)) {}

std::vector<bool> SbomFileScan::layers(size_t count) const {
  std::vector<bool> wanted(count);
  for (size_t layer : m_layers) {
    if (layer < count) {
      wanted[layer] = true;
    }
  }
  return wanted;
}

ImageView::ScanFn SbomFileScan::scan() {
  return [this](size_t layer, size_t position, const archive::TarEntry&,
                archive::ContentReader& reader) -> Status {
    if (m_layers.count(layer) == 0) {
      return {};
    }
    DISTILL_TRY(Hashes hashes, hash_content(reader));
    std::lock_guard<std::mutex> lock(m_mutex);
    m_found.insert_or_assign({layer, position}, std::move(hashes));
    return {};
  };
}

const SbomFileScan::Hashes* SbomFileScan::find(size_t layer, size_t position) const {
  auto found = m_found.find({layer, position});
  return found == m_found.end() ? nullptr : &found->second;
}

Result<std::string> make_sbom(const ImageView& view, const oci::ImageConfig& config,
                              const std::string& manifest_digest, SbomFormat format,
                              const SbomOptions& options, const SbomFileScan* scanned) {
  DISTILL_TRY(SbomData data, collect(view, config, manifest_digest, options, scanned));
  return format == SbomFormat::SpdxJson ? spdx_json(data, options) : cyclonedx_json(data, options);
}

}  // namespace distill::check
