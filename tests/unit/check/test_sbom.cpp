// SBOMs: SPDX 2.3 and CycloneDX 1.5 documents validated against the JSON schemas in
// tests/data/schemas with python3-jsonschema; purls, licenses from machine-readable
// copyright files, .deb checksums when known, spec files with sha256, determinism.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
  auto result = util::run_command({{"python3", "-c", k_validate, schema, file.string()}});
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

TEST_F(SbomTest, SpdxIsValidAndListsPackagesFilesAndRelationships) {
  std::string text = make(SbomFormat::SpdxJson);
  EXPECT_EQ(validate(schema_path("spdx-2.3.schema.json"), text, m_dir->path()), "");
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["creationInfo"]["created"], "2024-01-02T03:04:05Z");
  EXPECT_EQ(doc["documentDescribes"][0], "SPDXRef-Image");
  auto& packages = doc["packages"];
  ASSERT_EQ(packages.size(), 3U);  // the image + two Debian packages
  EXPECT_EQ(packages[0]["primaryPackagePurpose"], "CONTAINER");
  const auto& bar = packages[1];
  EXPECT_EQ(bar["name"], "libbar+plus");
  EXPECT_EQ(bar["SPDXID"], "SPDXRef-Package-deb-libbar-plus-all");
  EXPECT_EQ(bar["licenseDeclared"], "NOASSERTION");  // not machine-readable
  EXPECT_FALSE(bar.contains("checksums"));
  EXPECT_EQ(bar["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/libbar%2Bplus@0.9?arch=all&distro=debian-12");
  const auto& foo = packages[2];
  EXPECT_EQ(foo["versionInfo"], "1:2.3-4+deb12u1");
  EXPECT_EQ(foo["supplier"], "Organization: Foo Team (foo@example.org)");
  EXPECT_EQ(foo["licenseDeclared"], "LGPL-2.1-or-later AND GPL-2.0-or-later");
  EXPECT_EQ(foo["checksums"][0]["checksumValue"], std::string(64, 'a'));
  EXPECT_EQ(foo["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/libfoo1@1%3A2.3-4%2Bdeb12u1?arch=amd64&distro=debian-12");
  EXPECT_EQ(foo["sourceInfo"], "built package from: foo 2.3-4");
  // Spec files: regular files of the "distill: files" layer, with their sha256.
  ASSERT_EQ(doc["files"].size(), 2U);
  EXPECT_EQ(doc["files"][0]["fileName"], "./app/config");
  EXPECT_EQ(doc["files"][1]["fileName"], "./app/server");
  EXPECT_EQ(doc["files"][1]["checksums"][0]["checksumValue"], crypto::sha256("binary").hex());
  // DESCRIBES + 2 packages + 2 files.
  EXPECT_EQ(doc["relationships"].size(), 5U);
  EXPECT_EQ(doc["relationships"][0]["relationshipType"], "DESCRIBES");
}

TEST_F(SbomTest, CycloneDxIsValid) {
  std::string text = make(SbomFormat::CycloneDxJson);
  EXPECT_EQ(validate(schema_path("cyclonedx-1.5.schema.json"), text, m_dir->path()), "");
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["metadata"]["component"]["type"], "container");
  EXPECT_EQ(doc["metadata"]["timestamp"], "2024-01-02T03:04:05Z");
  ASSERT_EQ(doc["components"].size(), 4U);
  const auto& foo = doc["components"][1];
  EXPECT_EQ(foo["purl"], "pkg:deb/debian/libfoo1@1%3A2.3-4%2Bdeb12u1?arch=amd64&distro=debian-12");
  EXPECT_EQ(foo["licenses"][0]["expression"], "LGPL-2.1-or-later AND GPL-2.0-or-later");
  EXPECT_EQ(foo["hashes"][0]["content"], std::string(64, 'a'));
  EXPECT_EQ(foo["supplier"]["name"], "Foo Team <foo@example.org>");
  EXPECT_FALSE(doc["components"][0].contains("licenses"));
  EXPECT_EQ(doc["components"][2]["type"], "file");
  EXPECT_EQ(doc["dependencies"][0]["dependsOn"].size(), 4U);
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

TEST(SbomFormat, Parse) {
  EXPECT_EQ(*parse_sbom_format("spdx-json"), SbomFormat::SpdxJson);
  EXPECT_EQ(*parse_sbom_format("cyclonedx-json"), SbomFormat::CycloneDxJson);
  EXPECT_FALSE(parse_sbom_format("xml").ok());
  EXPECT_EQ(sbom_media_type(SbomFormat::SpdxJson), "application/spdx+json");
}

TEST(Licenses, DebianNamesMapToSpdx) {
  EXPECT_EQ(spdx_license_id("GPL-2+"), "GPL-2.0-or-later");
  EXPECT_EQ(spdx_license_id("LGPL-2.1+"), "LGPL-2.1-or-later");
  EXPECT_EQ(spdx_license_id("Expat"), "MIT");
  EXPECT_EQ(spdx_license_id("BSD-3-clause"), "BSD-3-Clause");
  EXPECT_EQ(spdx_license_id("public-domain"), "");
  EXPECT_EQ(spdx_expression("GPL-2+ or Artistic"), "GPL-2.0-or-later OR Artistic-1.0-Perl");
  EXPECT_EQ(spdx_expression("GPL-3+ with GCC-exception-3.1 exception"),
            "GPL-3.0-or-later WITH GCC-exception-3.1");
  EXPECT_EQ(spdx_expression("GPL-2+ or Artistic, and BSD-3-clause"),
            "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause");
  EXPECT_EQ(spdx_expression("Expat or public-domain"), "");
  EXPECT_EQ(copyright_expression("Files: *\nLicense: MIT\n"), "");  // no Format: header
  EXPECT_EQ(copyright_expression(
                "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                "Files: *\nLicense: Zlib\n\nFiles: b\nLicense: public-domain\n"),
            "");
}

TEST(OsReleaseParse, QuotedValues) {
  OsRelease os = parse_os_release("ID=debian\nVERSION_ID=\"12\"\n# c\nPRETTY_NAME='X Y'\n");
  EXPECT_EQ(os.id, "debian");
  EXPECT_EQ(os.version_id, "12");
  EXPECT_EQ(os.pretty_name, "X Y");
}

}  // namespace
}  // namespace distill::check
