// SBOMs: SPDX 2.3 documents validated against the official SPDX 2.3 JSON schema and
// CycloneDX 1.5 against the schema in tests/data/schemas, with python3-jsonschema,
// plus the SPDX rules a schema cannot say (file SHA-1s, the package verification
// code, relationship targets); purls, licenses of copyright files (SPDX ids and
// LicenseRefs with their text), dependencies, the operating system, .deb checksums
// when known, spec files with SHA-1 and SHA-256, document names, determinism.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "../support/python.hpp"
#include "check/debian_licenses.hpp"
#include "check/packages.hpp"
#include "check/sbom.hpp"
#include "crypto/sha256.hpp"
#include "test_image.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

constexpr const char* k_validate = R"PY(
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
document = json.load(open(sys.argv[2]))
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
for error in errors:
    print("/".join(str(p) for p in error.path), error.message)
sys.exit(1 if errors else 0)
)PY";

std::string schema_path(const std::string& name) {
  return std::string(DISTILL_SOURCE_DIR) + "/tests/data/schemas/" + name;
}

// "" when valid, else the validator's complaints.
std::string validate(const std::string& schema, const std::string& document,
                     const fs::path& scratch) {
  fs::path file = scratch / "document.json";
  EXPECT_TRUE(util::write_file_atomic(file, document).ok());
  auto result = util::run_command(
      {{test::system_python().string(), "-c", k_validate, schema, file.string()}});
  if (!result.ok()) {
    return result.error().message;
  }
  return result->exit_code == 0 ? "" : result->stdout_data + result->stderr_data;
}

class SbomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::make_unique<util::TempDir>(*util::TempDir::create());
    write_layer(m_dir->path() / "base.tar.gz", base_layer());
    write_layer(m_dir->path() / "files.tar.gz",
                {dir("app"), file("app/server", "binary", 0755), file("app/config", "port=1"),
                 symlink("app/link", "server")});
    auto view = ImageView::load(
        std::vector<fs::path>{m_dir->path() / "base.tar.gz", m_dir->path() / "files.tar.gz"});
    ASSERT_TRUE(view.ok());
    m_view = std::make_unique<ImageView>(std::move(*view));
    m_config = base_config();
    m_config.created = "2024-01-02T03:04:05Z";
    m_config.history = {{"", "distill: packages libfoo1, libbar+plus", "", false},
                        {"", "distill: files of myapp", "", false}};
    m_options.name = "oci:out:myapp";
    m_options.deb_sha256["libfoo1:amd64"] = std::string(64, 'a');
  }

  std::string make(SbomFormat format) {
    auto document = make_sbom(*m_view, m_config, k_digest, format, m_options);
    EXPECT_TRUE(document.ok()) << (document.ok() ? "" : document.error().message);
    return *document;
  }

  static constexpr const char* k_digest =
      "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::unique_ptr<util::TempDir> m_dir;
  std::unique_ptr<ImageView> m_view;
  oci::ImageConfig m_config;
  SbomOptions m_options;
};

// The SPDX 2.3 rules beyond the schema that the official validator checks here:
// unique SPDXIDs, relationship ends that exist, every file with a SHA1, a package
// whose filesAnalyzed is false listing no files, a verification code that matches
// the files it lists, every LicenseRef used defined. "" when all hold.
std::string spdx_semantics(const nlohmann::json& doc) {
  std::set<std::string> ids{"SPDXRef-DOCUMENT"};
  std::string problems;
  auto add_id = [&](const std::string& id) {
    if (!ids.insert(id).second) {
      problems += "duplicate " + id + "\n";
    }
  };
  std::map<std::string, std::string> file_sha1;
  for (const auto& file : doc.value("files", nlohmann::json::array())) {
    add_id(file["SPDXID"]);
    std::string sha1;
    for (const auto& checksum : file["checksums"]) {
      if (checksum["algorithm"] == "SHA1") {
        sha1 = checksum["checksumValue"];
      }
    }
    if (sha1.empty()) {
      problems += "no SHA1 for " + std::string(file["fileName"]) + "\n";
    }
    file_sha1[file["SPDXID"]] = sha1;
  }
  std::set<std::string> defined;
  for (const auto& license : doc.value("hasExtractedLicensingInfos", nlohmann::json::array())) {
    defined.insert(license["licenseId"].get<std::string>());
    if (license["extractedText"].get<std::string>().empty()) {
      problems += "empty text for " + std::string(license["licenseId"]) + "\n";
    }
  }
  std::map<std::string, std::vector<std::string>> contained_files;
  for (const auto& relationship : doc["relationships"]) {
    if (relationship["relationshipType"] == "CONTAINS" &&
        file_sha1.count(relationship["relatedSpdxElement"]) != 0) {
      contained_files[relationship["spdxElementId"]].push_back(relationship["relatedSpdxElement"]);
    }
  }
  for (const auto& package : doc["packages"]) {
    add_id(package["SPDXID"]);
    bool analyzed = package.value("filesAnalyzed", true);
    const auto& listed = contained_files[package["SPDXID"]];
    if (!analyzed && (!listed.empty() || package.contains("hasFiles"))) {
      problems += std::string(package["SPDXID"]) + ": filesAnalyzed false but has files\n";
    }
    if (analyzed) {
      std::vector<std::string> sums;
      for (const auto& id : package.value("hasFiles", nlohmann::json::array())) {
        sums.push_back(file_sha1[id]);
      }
      std::sort(sums.begin(), sums.end());
      std::string all;
      for (const auto& sum : sums) {
        all += sum;
      }
      if (package["packageVerificationCode"]["packageVerificationCodeValue"] !=
          crypto::sha1_hex(all)) {
        problems += std::string(package["SPDXID"]) + ": wrong verification code\n";
      }
    }
    std::string declared = package["licenseDeclared"];
    for (size_t at = declared.find("LicenseRef-"); at != std::string::npos;
         at = declared.find("LicenseRef-", at + 1)) {
      std::string ref = declared.substr(at, declared.find_first_of(" ()", at) - at);
      if (defined.count(ref) == 0) {
        problems += "undefined " + ref + "\n";
      }
    }
  }
  for (const auto& relationship : doc["relationships"]) {
    for (const char* end : {"spdxElementId", "relatedSpdxElement"}) {
      if (ids.count(relationship[end]) == 0) {
        problems += "relationship to unknown " + std::string(relationship[end]) + "\n";
      }
    }
  }
  return problems;
}

TEST_F(SbomTest, SpdxIsValidAndListsPackagesFilesAndRelationships) {
  std::string text = make(SbomFormat::SpdxJson);
  EXPECT_EQ(validate(schema_path("spdx-2.3.official.schema.json"), text, m_dir->path()), "");
  EXPECT_EQ(validate(schema_path("spdx-2.3.schema.json"), text, m_dir->path()), "");
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(spdx_semantics(doc), "");
  EXPECT_EQ(doc["creationInfo"]["created"], "2024-01-02T03:04:05Z");
  EXPECT_EQ(doc["documentDescribes"][0], "SPDXRef-Image");
  auto& packages = doc["packages"];
  ASSERT_EQ(packages.size(), 3U);  // the image + two Debian packages
  EXPECT_EQ(packages[0]["primaryPackagePurpose"], "CONTAINER");
  // The image lists the application files, so they are analyzed.
  EXPECT_EQ(packages[0]["filesAnalyzed"], true);
  EXPECT_EQ(packages[0]["hasFiles"], nlohmann::json::array({"SPDXRef-File-1", "SPDXRef-File-2"}));
  std::vector<std::string> sums = {crypto::sha1_hex("port=1"), crypto::sha1_hex("binary")};
  std::sort(sums.begin(), sums.end());
  EXPECT_EQ(packages[0]["packageVerificationCode"]["packageVerificationCodeValue"],
            crypto::sha1_hex(sums[0] + sums[1]));
  const auto& bar = packages[1];
  EXPECT_EQ(bar["name"], "libbar+plus");
  EXPECT_EQ(bar["SPDXID"], "SPDXRef-Package-deb-libbar-plus-all");
  EXPECT_EQ(bar["filesAnalyzed"], false);
  // Not machine-readable: a LicenseRef that points at the file, never NOASSERTION.
  EXPECT_EQ(bar["licenseDeclared"], "LicenseRef-libbar-plusplus-copyright");
  EXPECT_FALSE(bar.contains("checksums"));
  EXPECT_EQ(bar["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/libbar%2Bplus@0.9?arch=all&upstream=libbar%2Bplus&distro=debian-12");
  const auto& foo = packages[2];
  EXPECT_EQ(foo["versionInfo"], "1:2.3-4+deb12u1");
  EXPECT_EQ(foo["supplier"], "Organization: Foo Team (foo@example.org)");
  EXPECT_EQ(foo["licenseDeclared"], "LGPL-2.1-or-later AND GPL-2.0-or-later");
  EXPECT_EQ(foo["checksums"][0]["checksumValue"], std::string(64, 'a'));
  // The epoch's colon stays as is, the source package is the upstream qualifier.
  EXPECT_EQ(foo["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/libfoo1@1:2.3-4+deb12u1?arch=amd64&upstream=foo&distro=debian-12");
  EXPECT_EQ(foo["sourceInfo"], "built package from: foo 2.3-4");
  ASSERT_EQ(doc["hasExtractedLicensingInfos"].size(), 1U);
  EXPECT_EQ(doc["hasExtractedLicensingInfos"][0]["licenseId"],
            "LicenseRef-libbar-plusplus-copyright");
  EXPECT_NE(doc["hasExtractedLicensingInfos"][0]["extractedText"].get<std::string>().find(
                "/usr/share/doc/libbar+plus/copyright"),
            std::string::npos);
  // Spec files: regular files of the "distill: files" layer, with SHA1 and SHA256.
  ASSERT_EQ(doc["files"].size(), 2U);
  EXPECT_EQ(doc["files"][0]["fileName"], "./app/config");
  EXPECT_EQ(doc["files"][1]["fileName"], "./app/server");
  EXPECT_EQ(doc["files"][1]["checksums"],
            nlohmann::json::parse(R"([{"algorithm":"SHA1","checksumValue":")" +
                                  crypto::sha1_hex("binary") +
                                  R"("},{"algorithm":"SHA256","checksumValue":")" +
                                  crypto::sha256("binary").hex() + R"("}])"));
  // DESCRIBES + 2 packages + 2 files; no Depends in these packages.
  EXPECT_EQ(doc["relationships"].size(), 5U);
  EXPECT_EQ(doc["relationships"][0]["relationshipType"], "DESCRIBES");
}

TEST_F(SbomTest, CycloneDxIsValid) {
  std::string text = make(SbomFormat::CycloneDxJson);
  EXPECT_EQ(validate(schema_path("cyclonedx-1.5.schema.json"), text, m_dir->path()), "");
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["metadata"]["component"]["type"], "container");
  EXPECT_EQ(doc["metadata"]["timestamp"], "2024-01-02T03:04:05Z");
  ASSERT_EQ(doc["components"].size(), 5U);  // os, 2 packages, 2 files
  const auto& os = doc["components"][0];
  EXPECT_EQ(os["type"], "operating-system");
  EXPECT_EQ(os["name"], "debian");
  EXPECT_EQ(os["version"], "12");
  const auto& foo = doc["components"][2];
  EXPECT_EQ(foo["purl"],
            "pkg:deb/debian/libfoo1@1:2.3-4+deb12u1?arch=amd64&upstream=foo&distro=debian-12");
  EXPECT_EQ(foo["licenses"][0]["expression"], "LGPL-2.1-or-later AND GPL-2.0-or-later");
  EXPECT_EQ(foo["hashes"][0]["content"], std::string(64, 'a'));
  EXPECT_EQ(foo["supplier"]["name"], "Foo Team <foo@example.org>");
  EXPECT_EQ(doc["components"][1]["licenses"][0]["expression"],
            "LicenseRef-libbar-plusplus-copyright");
  EXPECT_EQ(doc["components"][3]["type"], "file");
  EXPECT_EQ(doc["components"][3]["hashes"][0]["alg"], "SHA-1");
  // The image holds every component; each component is in the graph once.
  EXPECT_EQ(doc["dependencies"][0]["dependsOn"].size(), 5U);
  EXPECT_EQ(doc["dependencies"].size(), 6U);
}

// Packages whose Depends/Pre-Depends name installed packages, alternatives and
// virtual packages: DEPENDS_ON in SPDX, `dependencies` in CycloneDX.
TEST_F(SbomTest, DependenciesFollowTheInstalledPackages) {
  write_layer(
      m_dir->path() / "deps.tar.gz",
      {dir("var"), dir("var/lib"), dir("var/lib/dpkg"), dir("var/lib/dpkg/status.d"),
       file("var/lib/dpkg/status.d/app",
            "Package: app\nVersion: 1\nArchitecture: amd64\n"
            "Pre-Depends: libbar+plus\n"
            "Depends: missing-lib | libfoo1 (>= 1:2), mail-transport-agent, debconf, app\n"),
       file("var/lib/dpkg/status.d/mta",
            "Package: mta\nVersion: 2\nArchitecture: amd64\n"
            "Provides: mail-transport-agent (= 2)\n")});
  auto view = ImageView::load(
      std::vector<fs::path>{m_dir->path() / "base.tar.gz", m_dir->path() / "deps.tar.gz"});
  ASSERT_TRUE(view.ok());
  auto spdx = make_sbom(*view, m_config, k_digest, SbomFormat::SpdxJson, m_options);
  ASSERT_TRUE(spdx.ok()) << spdx.error().message;
  auto doc = nlohmann::json::parse(*spdx);
  EXPECT_EQ(spdx_semantics(doc), "");
  EXPECT_EQ(validate(schema_path("spdx-2.3.official.schema.json"), *spdx, m_dir->path()), "");
  std::set<std::pair<std::string, std::string>> depends;
  for (const auto& relationship : doc["relationships"]) {
    if (relationship["relationshipType"] == "DEPENDS_ON") {
      depends.emplace(relationship["spdxElementId"], relationship["relatedSpdxElement"]);
    }
  }
  // debconf is not installed (a flavor excludes it): nothing; app on itself: nothing.
  std::set<std::pair<std::string, std::string>> want = {
      {"SPDXRef-Package-deb-app-amd64", "SPDXRef-Package-deb-libbar-plus-all"},
      {"SPDXRef-Package-deb-app-amd64", "SPDXRef-Package-deb-libfoo1-amd64"},
      {"SPDXRef-Package-deb-app-amd64", "SPDXRef-Package-deb-mta-amd64"}};
  EXPECT_EQ(depends, want);

  auto cdx = make_sbom(*view, m_config, k_digest, SbomFormat::CycloneDxJson, m_options);
  ASSERT_TRUE(cdx.ok());
  EXPECT_EQ(validate(schema_path("cyclonedx-1.5.schema.json"), *cdx, m_dir->path()), "");
  auto bom = nlohmann::json::parse(*cdx);
  std::map<std::string, nlohmann::json> graph;
  for (const auto& entry : bom["dependencies"]) {
    graph[entry["ref"]] = entry["dependsOn"];
  }
  EXPECT_EQ(
      graph["pkg:deb/debian/app@1?arch=amd64&upstream=app&distro=debian-12"],
      nlohmann::json::array(
          {"pkg:deb/debian/libbar%2Bplus@0.9?arch=all&upstream=libbar%2Bplus&distro=debian-12",
           "pkg:deb/debian/libfoo1@1:2.3-4+deb12u1?arch=amd64&upstream=foo&distro=debian-12",
           "pkg:deb/debian/mta@2?arch=amd64&upstream=mta&distro=debian-12"}));
  EXPECT_EQ(graph["pkg:deb/debian/mta@2?arch=amd64&upstream=mta&distro=debian-12"],
            nlohmann::json::array());
}

// An archive of a spec's `archives:` (its record in /var/lib/distill/archives):
// a package with its download URL, sha256 and purl, valid in both formats.
TEST_F(SbomTest, ArchiveRecordsBecomePackagesWithUrlDigestAndPurl) {
  const std::string sha(64, 'd');
  write_layer(m_dir->path() / "archive.tar.gz",
              {dir("var"), dir("var/lib"), dir("var/lib/distill"), dir("var/lib/distill/archives"),
               file("var/lib/distill/archives/" + sha + ".json",
                    R"({"name": "node", "version": "22.11.0", "dst": "/nodejs", "sha256": ")" +
                        sha + R"(", "url": "https://nodejs.example/node-v22.tar.xz"})"),
               file("var/lib/distill/archives/" + std::string(64, 'e') + ".json",
                    R"({"dst": "/opt", "sha256": ")" + std::string(64, 'e') +
                        R"(", "url": "https://h.example/tool.tgz"})")});
  auto view = ImageView::load(
      std::vector<fs::path>{m_dir->path() / "base.tar.gz", m_dir->path() / "archive.tar.gz"});
  ASSERT_TRUE(view.ok());
  const std::string purl =
      "pkg:generic/node@22.11.0?download_url=https%3A%2F%2Fnodejs.example%2Fnode-v22.tar.xz";
  auto spdx = make_sbom(*view, m_config, k_digest, SbomFormat::SpdxJson, m_options);
  ASSERT_TRUE(spdx.ok()) << spdx.error().message;
  EXPECT_EQ(validate(schema_path("spdx-2.3.official.schema.json"), *spdx, m_dir->path()), "");
  auto doc = nlohmann::json::parse(*spdx);
  EXPECT_EQ(spdx_semantics(doc), "");
  nlohmann::json node;
  nlohmann::json tool;
  for (const auto& p : doc["packages"]) {
    if (p["name"] == "node") {
      node = p;
    } else if (p["name"] == "tool.tgz") {
      tool = p;
    }
  }
  ASSERT_FALSE(node.is_null());
  EXPECT_EQ(node["downloadLocation"], "https://nodejs.example/node-v22.tar.xz");
  EXPECT_EQ(node["versionInfo"], "22.11.0");
  EXPECT_EQ(node["checksums"][0]["checksumValue"], sha);
  EXPECT_EQ(node["externalRefs"][0]["referenceLocator"], purl);
  ASSERT_FALSE(tool.is_null());
  EXPECT_FALSE(tool.contains("externalRefs"));  // no name and version: no purl

  auto cdx = make_sbom(*view, m_config, k_digest, SbomFormat::CycloneDxJson, m_options);
  ASSERT_TRUE(cdx.ok()) << cdx.error().message;
  EXPECT_EQ(validate(schema_path("cyclonedx-1.5.schema.json"), *cdx, m_dir->path()), "");
  auto bom = nlohmann::json::parse(*cdx);
  bool found = false;
  for (const auto& c : bom["components"]) {
    if (c["name"] == "node") {
      found = true;
      EXPECT_EQ(c["purl"], purl);
      EXPECT_EQ(c["hashes"][0]["content"], sha);
      EXPECT_EQ(c["externalReferences"][0]["url"], "https://nodejs.example/node-v22.tar.xz");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(SbomTest, MalformedDependsNamesTheStatusFile) {
  write_layer(m_dir->path() / "bad.tar.gz",
              {dir("var"), dir("var/lib"), dir("var/lib/dpkg"), dir("var/lib/dpkg/status.d"),
               file("var/lib/dpkg/status.d/broken",
                    "Package: broken\nVersion: 1\nArchitecture: all\nDepends: libx (>= \n")});
  auto view = ImageView::load(
      std::vector<fs::path>{m_dir->path() / "base.tar.gz", m_dir->path() / "bad.tar.gz"});
  ASSERT_TRUE(view.ok());
  auto spdx = make_sbom(*view, m_config, k_digest, SbomFormat::SpdxJson, m_options);
  ASSERT_FALSE(spdx.ok());
  EXPECT_NE(spdx.error().message.find("/var/lib/dpkg/status.d/broken"), std::string::npos)
      << spdx.error().message;
  EXPECT_NE(spdx.error().message.find("Depends"), std::string::npos) << spdx.error().message;
}

// Two packages whose copyright files give different texts for "public-domain":
// two LicenseRefs, each package's expression naming its own.
TEST_F(SbomTest, SameLicenseNameWithOtherTextsGetsItsOwnRef) {
  const char* k_format =
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n";
  write_layer(m_dir->path() / "pd.tar.gz",
              {dir("usr"), dir("usr/share"), dir("usr/share/doc"), dir("usr/share/doc/one"),
               file("usr/share/doc/one/copyright",
                    std::string(k_format) + "Files: *\nCopyright: none\nLicense: public-domain\n"
                                            " Text one.\n"),
               dir("usr/share/doc/two"),
               file("usr/share/doc/two/copyright",
                    std::string(k_format) +
                        "Files: *\nCopyright: none\nLicense: public-domain or Expat\n\n"
                        "Files: x\nCopyright: none\nLicense: public-domain\n Text two.\n"),
               dir("var"), dir("var/lib"), dir("var/lib/dpkg"), dir("var/lib/dpkg/status.d"),
               file("var/lib/dpkg/status.d/one", "Package: one\nVersion: 1\nArchitecture: all\n"),
               file("var/lib/dpkg/status.d/two", "Package: two\nVersion: 1\nArchitecture: all\n")});
  auto view = ImageView::load(
      std::vector<fs::path>{m_dir->path() / "base.tar.gz", m_dir->path() / "pd.tar.gz"});
  ASSERT_TRUE(view.ok());
  auto spdx = make_sbom(*view, m_config, k_digest, SbomFormat::SpdxJson, m_options);
  ASSERT_TRUE(spdx.ok());
  auto doc = nlohmann::json::parse(*spdx);
  EXPECT_EQ(spdx_semantics(doc), "");
  EXPECT_EQ(validate(schema_path("spdx-2.3.official.schema.json"), *spdx, m_dir->path()), "");
  std::map<std::string, std::string> declared;
  for (const auto& package : doc["packages"]) {
    declared[package["name"]] = package["licenseDeclared"];
  }
  EXPECT_EQ(declared["one"], "LicenseRef-public-domain");
  EXPECT_EQ(declared["two"], "(LicenseRef-public-domain-2 OR MIT) AND LicenseRef-public-domain-2");
  std::map<std::string, std::string> texts;
  for (const auto& license : doc["hasExtractedLicensingInfos"]) {
    texts[license["licenseId"]] = license["extractedText"];
  }
  EXPECT_EQ(texts["LicenseRef-public-domain"], "Text one.");
  EXPECT_EQ(texts["LicenseRef-public-domain-2"], "Text two.");
}

TEST_F(SbomTest, SchemasRejectBrokenDocuments) {
  auto doc = nlohmann::json::parse(make(SbomFormat::SpdxJson));
  doc["packages"][1].erase("downloadLocation");
  EXPECT_NE(validate(schema_path("spdx-2.3.schema.json"), doc.dump(), m_dir->path()), "");
  auto cdx = nlohmann::json::parse(make(SbomFormat::CycloneDxJson));
  cdx["components"][0]["type"] = "package";
  EXPECT_NE(validate(schema_path("cyclonedx-1.5.schema.json"), cdx.dump(), m_dir->path()), "");
}

TEST_F(SbomTest, DeterministicAndNamespacedByDigest) {
  EXPECT_EQ(make(SbomFormat::SpdxJson), make(SbomFormat::SpdxJson));
  EXPECT_EQ(make(SbomFormat::CycloneDxJson), make(SbomFormat::CycloneDxJson));
  auto first = nlohmann::json::parse(make(SbomFormat::SpdxJson));
  auto other = make_sbom(*m_view, m_config, "sha256:" + std::string(64, 'f'), SbomFormat::SpdxJson,
                         m_options);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(first["documentNamespace"], nlohmann::json::parse(*other)["documentNamespace"]);
}

// The files of a `files:` layer hashed as the view is loaded: the same
// documents, and no layer read again (both layer files are gone by then).
TEST_F(SbomTest, FilesScannedAsTheViewLoadsAreNotReadAgain) {
  const std::string spdx = make(SbomFormat::SpdxJson);
  const std::string cyclonedx = make(SbomFormat::CycloneDxJson);
  SbomFileScan scanned(m_config);
  EXPECT_EQ(scanned.layers(2), (std::vector<bool>{false, true}));
  EXPECT_EQ(scanned.layers(1), (std::vector<bool>{false}));
  auto view = ImageView::load(
      std::vector<fs::path>{m_dir->path() / "base.tar.gz", m_dir->path() / "files.tar.gz"}, "image",
      sbom_reads, {}, scanned.scan());
  ASSERT_TRUE(view.ok()) << view.error().message;
  fs::remove(m_dir->path() / "base.tar.gz");
  fs::remove(m_dir->path() / "files.tar.gz");
  auto scanned_spdx =
      make_sbom(*view, m_config, k_digest, SbomFormat::SpdxJson, m_options, &scanned);
  ASSERT_TRUE(scanned_spdx.ok()) << scanned_spdx.error().message;
  EXPECT_EQ(*scanned_spdx, spdx);
  auto scanned_cyclonedx =
      make_sbom(*view, m_config, k_digest, SbomFormat::CycloneDxJson, m_options, &scanned);
  ASSERT_TRUE(scanned_cyclonedx.ok()) << scanned_cyclonedx.error().message;
  EXPECT_EQ(*scanned_cyclonedx, cyclonedx);
  // Without what the scan saw, the files layer is read: gone, so an error.
  EXPECT_FALSE(make_sbom(*view, m_config, k_digest, SbomFormat::SpdxJson, m_options).ok());
}

TEST(SbomFormat, Parse) {
  EXPECT_EQ(*parse_sbom_format("spdx-json"), SbomFormat::SpdxJson);
  EXPECT_EQ(*parse_sbom_format("cyclonedx-json"), SbomFormat::CycloneDxJson);
  EXPECT_FALSE(parse_sbom_format("xml").ok());
  EXPECT_EQ(sbom_media_type(SbomFormat::SpdxJson), "application/spdx+json");
}

TEST(Licenses, DebianNamesMapToSpdx) {
  EXPECT_EQ(spdx_license_id("GPL-2+"), "GPL-2.0-or-later");
  EXPECT_EQ(spdx_license_id("GPL-2"), "GPL-2.0-only");
  EXPECT_EQ(spdx_license_id("GPL-2.0+"), "GPL-2.0-or-later");
  EXPECT_EQ(spdx_license_id("GPLv3+"), "GPL-3.0-or-later");
  EXPECT_EQ(spdx_license_id("gpl"), "GPL-1.0-or-later");
  EXPECT_EQ(spdx_license_id("LGPL-2.1+"), "LGPL-2.1-or-later");
  EXPECT_EQ(spdx_license_id("LGPL-2.1"), "LGPL-2.1-only");
  EXPECT_EQ(spdx_license_id("LGPL-3.0-or-later"), "LGPL-3.0-or-later");
  EXPECT_EQ(spdx_license_id("AGPL-3+"), "AGPL-3.0-or-later");
  EXPECT_EQ(spdx_license_id("GFDL-1.3+"), "GFDL-1.3-or-later");
  EXPECT_EQ(spdx_license_id("GFDL-NIV-1.2+"), "GFDL-1.2-no-invariants-or-later");
  EXPECT_EQ(spdx_license_id("GPL-4+"), "");  // no such version
  EXPECT_EQ(spdx_license_id("Expat"), "MIT");
  EXPECT_EQ(spdx_license_id("BSD-3-clause"), "BSD-3-Clause");
  EXPECT_EQ(spdx_license_id("BSD-2-Clause"), "BSD-2-Clause");
  EXPECT_EQ(spdx_license_id("Apache-2.0"), "Apache-2.0");
  EXPECT_EQ(spdx_license_id("Apache-2.0+"), "Apache-2.0+");
  EXPECT_EQ(spdx_license_id("Artistic"), "Artistic-1.0-Perl");
  EXPECT_EQ(spdx_license_id("Zlib"), "Zlib");
  EXPECT_EQ(spdx_license_id("ISC"), "ISC");
  EXPECT_EQ(spdx_license_id("MPL-2.0"), "MPL-2.0");
  EXPECT_EQ(spdx_license_id("PSF-2"), "PSF-2.0");
  EXPECT_EQ(spdx_license_id("public-domain"), "");
  EXPECT_EQ(license_ref("public-domain"), "LicenseRef-public-domain");
  EXPECT_EQ(license_ref("GPL-2+ with foo's exception"),
            "LicenseRef-GPL-2-plus-with-foo-s-exception");
  EXPECT_EQ(license_ref("{AUTO-PERMISSIVE}"), "LicenseRef-AUTO-PERMISSIVE");
  EXPECT_EQ(license_ref("MIT/X11"), "LicenseRef-MIT-X11");
  EXPECT_EQ(spdx_license_id("MIT/X11"), "X11");
}

TEST(Licenses, ExpressionsFollowCopyrightFormat) {
  EXPECT_EQ(spdx_expression("GPL-2+ or Artistic"), "GPL-2.0-or-later OR Artistic-1.0-Perl");
  EXPECT_EQ(spdx_expression("GPL-3+ with GCC-exception-3.1 exception"),
            "GPL-3.0-or-later WITH GCC-exception-3.1");
  EXPECT_EQ(spdx_expression("GPL-2+ with OpenSSL exception"),
            "GPL-2.0-or-later WITH OpenSSL-exception");
  // An exception SPDX does not know: the whole name is a LicenseRef.
  std::vector<std::string> unknown;
  EXPECT_EQ(spdx_expression("GPL-2+ with Foo exception", &unknown),
            "LicenseRef-GPL-2-plus-with-Foo-exception");
  EXPECT_EQ(unknown, std::vector<std::string>{"GPL-2+ with Foo exception"});
  // "and" binds tighter than "or"; a comma lowers the precedence.
  EXPECT_EQ(spdx_expression("GPL-2+ or Artistic and BSD-3-clause"),
            "GPL-2.0-or-later OR (Artistic-1.0-Perl AND BSD-3-Clause)");
  EXPECT_EQ(spdx_expression("Sleepycat and BSD-3-clause"), "Sleepycat AND BSD-3-Clause");
  EXPECT_EQ(spdx_expression("GPL-2+ or Artistic, and BSD-3-clause"),
            "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause");
  unknown.clear();
  EXPECT_EQ(spdx_expression("Expat or public-domain", &unknown), "MIT OR LicenseRef-public-domain");
  EXPECT_EQ(unknown, std::vector<std::string>{"public-domain"});
}

constexpr const char* k_dep5 =
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "Upstream-Name: demo\n\n";

TEST(Licenses, MachineReadableFileGivesEveryLicenseWithTexts) {
  // Every applying License: of the file, unknown names defined by their stand-alone
  // paragraph's text (" ." is an empty line), else by a Files paragraph's text.
  std::string text = std::string(k_dep5) +
                     "Files: *\nCopyright: 2020 A\nLicense: GPL-2+\n\n"
                     "Files: lib/*\nCopyright: 2020 B\nLicense: public-domain\n"
                     " The author placed this in the public domain.\n\n"
                     "Files: data/*\nCopyright: 2020 C\nLicense: other-permissive\n\n"
                     "Files: extra/*\nCopyright: 2021 D\nLicense: Expat or GPL-2+\n\n"
                     "License: other-permissive\n Do what you want.\n .\n No warranty.\n\n"
                     "License: GPL-2+\n On Debian systems see /usr/share/common-licenses/GPL-2.\n";
  CopyrightLicenses licenses = copyright_licenses(text, "/usr/share/doc/demo/copyright", "demo");
  EXPECT_TRUE(licenses.machine_readable);
  EXPECT_EQ(licenses.expression,
            "GPL-2.0-or-later AND LicenseRef-public-domain AND LicenseRef-other-permissive AND "
            "(MIT OR GPL-2.0-or-later)");
  ASSERT_EQ(licenses.extracted.size(), 2U);
  EXPECT_EQ(licenses.extracted[0].id, "LicenseRef-public-domain");
  EXPECT_EQ(licenses.extracted[0].name, "public-domain");
  EXPECT_EQ(licenses.extracted[0].text, "The author placed this in the public domain.");
  EXPECT_EQ(licenses.extracted[1].id, "LicenseRef-other-permissive");
  EXPECT_EQ(licenses.extracted[1].text, "Do what you want.\n\nNo warranty.");
}

TEST(Licenses, SloppyFilesStillParse) {
  // A forgotten " ." (an empty line inside a license text), a stray line without a
  // field name, CRLF line ends, the old Format-Specification header.
  std::string text =
      "Format-Specification: http://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn?op=file&rev=135\r\n"
      "\r\n"
      "Files: *\r\nCopyright: 2019 X\r\nLicense: BSD-3-clause\r\n Redistribution...\r\n"
      "\r\n"
      " ...continued after an empty line.\r\n"
      "stray text\r\n"
      "\r\n"
      "Files: foo/*\r\nCopyright: 2019 Y\r\nLicense: Zlib\r\n";
  CopyrightLicenses licenses = copyright_licenses(text, "/usr/share/doc/x/copyright", "x");
  EXPECT_TRUE(licenses.machine_readable);
  EXPECT_EQ(licenses.expression, "BSD-3-Clause AND Zlib");
  EXPECT_TRUE(licenses.extracted.empty());
}

TEST(Licenses, NotMachineReadableNamesTheFile) {
  for (const char* text : {"This is libfoo, Copyright 1999.\nSee /usr/share/common-licenses/GPL.\n",
                           "Files: *\nLicense: MIT\n",  // no Format: header
                           ""}) {
    CopyrightLicenses licenses =
        copyright_licenses(text, "/usr/share/doc/libfoo/copyright", "libfoo");
    EXPECT_FALSE(licenses.machine_readable) << text;
    EXPECT_EQ(licenses.expression, "LicenseRef-libfoo-copyright") << text;
    ASSERT_EQ(licenses.extracted.size(), 1U);
    EXPECT_EQ(licenses.extracted[0].name, "/usr/share/doc/libfoo/copyright");
    EXPECT_NE(licenses.extracted[0].text.find("/usr/share/doc/libfoo/copyright"),
              std::string::npos);
  }
  // Machine-readable but without any License field: the file too.
  CopyrightLicenses none = copyright_licenses(std::string(k_dep5) + "Files: *\nCopyright: X\n",
                                              "/usr/share/doc/x/copyright", "x");
  EXPECT_EQ(none.expression, "LicenseRef-x-copyright");
}

TEST(SbomDocumentName, NamesTheImageWithoutLocalPaths) {
  auto name = [](const char* text) {
    auto ref = oci::ImageRef::parse(text);
    EXPECT_TRUE(ref.ok()) << text;
    return sbom_document_name(*ref);
  };
  EXPECT_EQ(name("oci:/tmp/x/cc:latest"), "cc:latest");
  EXPECT_EQ(name("oci:out/app/:1.0"), "app:1.0");
  EXPECT_EQ(name("oci-archive:/srv/images/app.tar:v1"), "app:v1");
  EXPECT_EQ(name("docker-archive:/tmp/app.tar:myimg:2"), "myimg:2");
  EXPECT_EQ(name("docker://127.0.0.1:5000/team/app:1.0"), "127.0.0.1:5000/team/app:1.0");
}

TEST(Purl, EpochColonUnencodedSourceAndDistroQualifiers) {
  EXPECT_EQ(deb_purl("libstdc++6", "12.2.0-14", "amd64", "gcc-12", "debian-12"),
            "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&upstream=gcc-12&distro=debian-12");
  EXPECT_EQ(deb_purl("zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "debian-12"),
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib&distro=debian-12");
  EXPECT_EQ(deb_purl("x", "1.0~rc1+b1", "all", "", ""), "pkg:deb/debian/x@1.0~rc1+b1?arch=all");
}

TEST(Purl, GenericPurlEncodesTheDownloadUrl) {
  EXPECT_EQ(generic_purl("node", "22.11.0",
                         "https://nodejs.org/dist/v22.11.0/node-v22.11.0-linux-x64.tar.xz"),
            "pkg:generic/node@22.11.0?download_url=https%3A%2F%2Fnodejs.org%2Fdist%2Fv22.11.0%2F"
            "node-v22.11.0-linux-x64.tar.xz");
  EXPECT_EQ(generic_purl("temurin-jre", "21.0.5+11", "https://h/a%2Bb.tgz"),
            "pkg:generic/temurin-jre@21.0.5+11?download_url=https%3A%2F%2Fh%2Fa%252Bb.tgz");
}

TEST(OsReleaseParse, QuotedValues) {
  OsRelease os = parse_os_release("ID=debian\nVERSION_ID=\"12\"\n# c\nPRETTY_NAME='X Y'\n");
  EXPECT_EQ(os.id, "debian");
  EXPECT_EQ(os.version_id, "12");
  EXPECT_EQ(os.pretty_name, "X Y");
}

TEST(SbomReads, TheFilesItReadsAndNoOthers) {
  for (const char* yes : {"etc/os-release", "usr/lib/os-release", "var/lib/dpkg/status",
                          "var/lib/dpkg/status.d/libc6", "var/lib/distill/archives/0a1b.json",
                          "usr/share/doc/libc6/copyright"}) {
    EXPECT_TRUE(sbom_reads(yes)) << yes;
  }
  for (const char* no :
       {"etc/passwd", "var/lib/dpkg/status.d/libc6.md5sums", "var/lib/dpkg/status.d/x/y",
        "var/lib/distill/archives/notes.txt", "usr/share/doc/libc6/changelog.gz",
        "usr/share/doc/libc6/examples/copyright", "usr/share/doc/copyright",
        "usr/share/doc//copyright"}) {
    EXPECT_FALSE(sbom_reads(no)) << no;
  }
}

}  // namespace
}  // namespace distill::check
