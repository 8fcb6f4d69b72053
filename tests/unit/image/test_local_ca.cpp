// Tests for local CA certificates (image/local_ca.hpp): which paths count, PEM
// validation naming the file, update-ca-certificates' order, and the bundle and
// Java trust store regenerated from a ca-certificates .deb built with dpkg-deb.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "image/local_ca.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

constexpr int64_t k_epoch = 1700000000;

bool run_ok(const std::vector<std::string>& argv) {
  auto result = util::run_command({argv});
  return result.ok() && result->exit_code == 0;
}

// Three self-signed certificates and a key, made once with the openssl CLI.
class LocalCaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = util::TempDir::create("distill-localca-");
    ASSERT_TRUE(dir.ok());
    s_dir = std::make_unique<util::TempDir>(std::move(*dir));
    if (util::find_program("openssl").empty()) {
      return;
    }
    for (int i = 0; i < 3; ++i) {
      fs::path key = s_dir->path() / ("key" + std::to_string(i) + ".pem");
      fs::path cert = s_dir->path() / ("cert" + std::to_string(i) + ".pem");
      ASSERT_TRUE(
          run_ok({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.string(), "-out",
                  cert.string(), "-days", "3650", "-subj", "/CN=Local CA " + std::to_string(i)}));
      s_certs.push_back(*util::read_file(cert));
    }
    s_key = *util::read_file(s_dir->path() / "key0.pem");
  }
  static void TearDownTestSuite() {
    s_certs.clear();
    s_dir.reset();
  }
  void SetUp() override {
    if (s_certs.empty()) {
      GTEST_SKIP() << "openssl CLI not installed";
    }
  }

  static GeneratedEntry cert_entry(const std::string& path, const std::string& pem) {
    return make_file(path, pem, 0644, k_epoch);
  }

  // A ca-certificates .deb shipping s_certs[0] as a package certificate.
  static fs::path ca_deb() {
    fs::path root = s_dir->path() / "ca-pkg";
    fs::create_directories(root / "DEBIAN");
    fs::create_directories(root / "usr/share/ca-certificates/test");
    EXPECT_TRUE(util::write_file_atomic(root / "DEBIAN/control",
                                        "Package: ca-certificates\nVersion: 1\nArchitecture: "
                                        "all\nMaintainer: t <t@example.org>\nDescription: t\n")
                    .ok());
    EXPECT_TRUE(
        util::write_file_atomic(root / "usr/share/ca-certificates/test/pkg.crt", s_certs[0]).ok());
    fs::path deb = s_dir->path() / "ca-certificates_1_all.deb";
    EXPECT_TRUE(run_ok(
        {"dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root.string(), deb.string()}));
    return deb;
  }

  static inline std::unique_ptr<util::TempDir> s_dir;
  static inline std::vector<std::string> s_certs;
  static inline std::string s_key;
};

TEST(LocalCaPath, OnlyCrtFilesBelowTheLocalDirectory) {
  EXPECT_TRUE(is_local_ca_path("usr/local/share/ca-certificates/myca.crt"));
  EXPECT_TRUE(is_local_ca_path("/usr/local/share/ca-certificates/corp/root.crt"));
  EXPECT_FALSE(is_local_ca_path("usr/local/share/ca-certificates/myca.pem"));
  EXPECT_FALSE(is_local_ca_path("usr/local/share/ca-certificates/.crt"));
  EXPECT_FALSE(is_local_ca_path("usr/local/share/ca-certificates"));
  EXPECT_FALSE(is_local_ca_path("usr/local/share/ca-certificatesX/a.crt"));
  EXPECT_FALSE(is_local_ca_path("usr/share/ca-certificates/mozilla/a.crt"));
  EXPECT_FALSE(is_local_ca_path("etc/ssl/certs/a.crt"));
}

TEST_F(LocalCaTest, CertificatesSortedByPathAndOtherFilesIgnored) {
  std::vector<GeneratedEntry> entries = {
      cert_entry("usr/local/share/ca-certificates/z.crt", s_certs[1]),
      make_file("app/readme.txt", "not a certificate", 0644, k_epoch),
      cert_entry("usr/local/share/ca-certificates/a/b.crt", s_certs[2]),
      make_directory("usr/local/share/ca-certificates/dir.crt", 0755, k_epoch),
  };
  auto certs = local_certificates(entries);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].path, "usr/local/share/ca-certificates/a/b.crt");
  EXPECT_EQ((*certs)[0].pem, s_certs[2]);
  EXPECT_EQ((*certs)[1].path, "usr/local/share/ca-certificates/z.crt");
}

TEST_F(LocalCaTest, ReadsTheHostSourceOfAppFiles) {
  fs::path src = s_dir->path() / "host.crt";
  ASSERT_TRUE(util::write_file_atomic(src, s_certs[1] + s_certs[2]).ok());
  GeneratedEntry g = make_file("usr/local/share/ca-certificates/host.crt", "", 0644, k_epoch);
  g.source = src;
  auto certs = local_certificates({g});
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].pem, s_certs[1] + s_certs[2]);
}

TEST_F(LocalCaTest, NotPemIsAnErrorNamingTheFile) {
  fs::path src = s_dir->path() / "der.crt";
  ASSERT_TRUE(util::write_file_atomic(src, std::string("\x30\x82\x01\x00", 4)).ok());
  GeneratedEntry g = make_file("usr/local/share/ca-certificates/der.crt", "", 0644, k_epoch);
  g.source = src;
  auto certs = local_certificates({g});
  ASSERT_FALSE(certs.ok());
  EXPECT_EQ(certs.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(certs.error().message.find(src.string()), std::string::npos) << certs.error().message;
  EXPECT_NE(certs.error().message.find("not a PEM certificate"), std::string::npos);
}

TEST_F(LocalCaTest, KeyOrBrokenCertificateIsAnError) {
  auto key = local_certificates({cert_entry("usr/local/share/ca-certificates/k.crt", s_key)});
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("/usr/local/share/ca-certificates/k.crt"), std::string::npos);
  EXPECT_NE(key.error().message.find("not a CERTIFICATE"), std::string::npos)
      << key.error().message;
  std::string broken = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
  auto bad = local_certificates({cert_entry("usr/local/share/ca-certificates/b.crt", broken)});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("not an X.509 certificate"), std::string::npos)
      << bad.error().message;
  auto second = local_certificates(
      {cert_entry("usr/local/share/ca-certificates/c.crt", s_certs[0] + broken)});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("PEM block 2"), std::string::npos)
      << second.error().message;
}

TEST(LocalCaBundle, AppendsWithNewlinesAsUpdateCaCertificates) {
  std::vector<LocalCertificate> certs = {{"a.crt", "A"}, {"b.crt", "B\n"}};
  EXPECT_EQ(bundle_with_local_certificates("P", certs), "P\nA\nB\n");
  EXPECT_EQ(bundle_with_local_certificates("P\n", {}), "P\n");
}

TEST(LocalCaChain, LaterStagesAddOrReplaceByPath) {
  auto merged =
      merge_local_certificates({{"b.crt", "B"}, {"c.crt", "C"}}, {{"c.crt", "C2"}, {"a.crt", "A"}});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].path, "a.crt");
  EXPECT_EQ(merged[1].pem, "B");
  EXPECT_EQ(merged[2].pem, "C2");
}

TEST(LocalCaChain, RegeneratedWhenPackagesWouldBringBackTheirFiles) {
  std::vector<LocalCertificate> certs = {{"a.crt", "A"}};
  InstalledPackage ca;
  ca.name = "ca-certificates";
  InstalledPackage jre;
  jre.name = "openjdk-17-jre-headless";
  InstalledPackage lib;
  lib.name = "libzstd1";
  EXPECT_FALSE(must_regenerate_ca_files({}, true, {ca}, {ca}));
  EXPECT_TRUE(must_regenerate_ca_files(certs, true, {}, {ca}));
  EXPECT_FALSE(must_regenerate_ca_files(certs, false, {}, {ca, jre}));
  EXPECT_FALSE(must_regenerate_ca_files(certs, false, {lib}, {ca, lib}));
  EXPECT_TRUE(must_regenerate_ca_files(certs, false, {ca}, {ca}));
  EXPECT_TRUE(must_regenerate_ca_files(certs, false, {lib}, {ca, jre, lib}));
  EXPECT_TRUE(has_java_runtime({jre}));
  EXPECT_FALSE(has_java_runtime({ca, lib}));
}

TEST_F(LocalCaTest, NothingWithoutLocalCertificatesOrCaPackage) {
  std::vector<std::string> what;
  auto none =
      local_ca_files({}, {{"usr/local/share/ca-certificates/a.crt", s_certs[1]}}, k_epoch, what);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  InstalledPackage ca;
  ca.name = "ca-certificates";
  ca.deb_file = s_dir->path() / "absent.deb";  // not opened: no local certificate
  auto no_certs = local_ca_files({ca}, {}, k_epoch, what);
  ASSERT_TRUE(no_certs.ok());
  EXPECT_TRUE(no_certs->empty());
  EXPECT_TRUE(what.empty());
}

TEST_F(LocalCaTest, RegeneratesBundleAndJavaTrustStore) {
  if (util::find_program("dpkg-deb").empty()) {
    GTEST_SKIP() << "dpkg-deb not installed";
  }
  InstalledPackage ca;
  ca.name = "ca-certificates";
  ca.deb_file = ca_deb();
  auto spec_certs = local_certificates({
      cert_entry("usr/local/share/ca-certificates/b.crt", s_certs[2]),
      cert_entry("usr/local/share/ca-certificates/a.crt", s_certs[1]),
  });
  ASSERT_TRUE(spec_certs.ok()) << spec_certs.error().message;
  std::vector<std::string> what;
  auto files = local_ca_files({ca}, *spec_certs, k_epoch, what);
  ASSERT_TRUE(files.ok()) << files.error().message;
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].entry.path, k_ca_bundle);
  EXPECT_EQ((*files)[0].content, s_certs[0] + s_certs[1] + s_certs[2]);
  EXPECT_EQ(what, std::vector<std::string>{"CA bundle with 2 local certificates"});

  InstalledPackage jre;
  jre.name = "openjdk-17-jre-headless";
  auto with_java = local_ca_files({ca, jre}, *spec_certs, k_epoch, what);
  ASSERT_TRUE(with_java.ok()) << with_java.error().message;
  ASSERT_EQ(with_java->size(), 2u);
  const GeneratedEntry& store = (*with_java)[0];
  EXPECT_EQ(store.entry.path, k_java_truststore);
  // JKS header: magic, version 2, then the entry count: all three certificates.
  ASSERT_GE(store.content.size(), 12u);
  EXPECT_EQ(store.content.substr(0, 12), std::string("\xFE\xED\xFE\xED\0\0\0\x02\0\0\0\x03", 12));
}

}  // namespace
}  // namespace distill::image
