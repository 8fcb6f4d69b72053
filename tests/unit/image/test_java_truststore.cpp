// Tests for the JKS trust store writer (image/java_truststore.hpp): the bytes are
// re-read by an independent parser here and by the host's Java 17 keytool.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "image/java_truststore.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

constexpr int64_t k_epoch = 1700000000;

struct ParsedEntry {
  std::string alias;
  uint64_t date_millis = 0;
  std::string type;
  std::string der;
};

// A reader for the layout in java_truststore.hpp, written from the format, not
// from the writer, so both must agree with Java's.
class JksReader {
 public:
  explicit JksReader(std::string data) : m_data(std::move(data)) {}

  bool parse(const std::string& password, std::vector<ParsedEntry>& entries) {
    if (u32() != 0xFEEDFEEDu || u32() != 2) {
      return false;
    }
    uint32_t count = u32();
    for (uint32_t i = 0; i < count && m_ok; ++i) {
      if (u32() != 2) {
        return false;
      }
      ParsedEntry entry;
      entry.alias = utf();
      entry.date_millis = (static_cast<uint64_t>(u32()) << 32) | u32();
      entry.type = utf();
      entry.der = bytes(u32());
      entries.push_back(entry);
    }
    if (!m_ok || m_data.size() - m_pos != SHA_DIGEST_LENGTH) {
      return false;
    }
    std::string salted;
    for (char c : password) {  // ASCII passwords only in these tests
      salted.push_back('\0');
      salted.push_back(c);
    }
    salted += "Mighty Aphrodite";
    salted.append(m_data, 0, m_pos);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(salted.data()), salted.size(), md);
    return m_data.compare(m_pos, SHA_DIGEST_LENGTH, reinterpret_cast<const char*>(md),
                          SHA_DIGEST_LENGTH) == 0;
  }

 private:
  std::string bytes(size_t n) {
    if (m_pos + n > m_data.size()) {
      m_ok = false;
      return {};
    }
    std::string out = m_data.substr(m_pos, n);
    m_pos += n;
    return out;
  }
  uint32_t u32() {
    std::string b = bytes(4);
    if (b.size() != 4) {
      return 0;
    }
    uint32_t v = 0;
    for (char c : b) {
      v = (v << 8) | static_cast<unsigned char>(c);
    }
    return v;
  }
  std::string utf() {
    std::string b = bytes(2);
    if (b.size() != 2) {
      return {};
    }
    size_t n = (static_cast<size_t>(static_cast<unsigned char>(b[0])) << 8) |
               static_cast<unsigned char>(b[1]);
    return bytes(n);
  }

  std::string m_data;
  size_t m_pos = 0;
  bool m_ok = true;
};

struct TestCert {
  std::string pem;
  std::string der;
};

// Certificates made once per suite with the openssl CLI (EC keys: fast).
class JavaTruststoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = util::TempDir::create("distill-jks-");
    ASSERT_TRUE(dir.ok());
    s_dir = std::make_unique<util::TempDir>(std::move(*dir));
    if (util::find_program("openssl").empty()) {
      return;
    }
    const std::vector<std::string> subjects = {"/CN=Distill Test Root (A)/O=Distill",
                                               "/O=Distill/OU=Only Unit", "/CN=Fő Root, ß/O=X",
                                               "/CN=Distill Test Root (A)/O=Other"};
    for (size_t i = 0; i < subjects.size(); ++i) {
      fs::path key = s_dir->path() / ("key" + std::to_string(i) + ".pem");
      fs::path cert = s_dir->path() / ("cert" + std::to_string(i) + ".pem");
      fs::path der = s_dir->path() / ("cert" + std::to_string(i) + ".der");
      auto made =
          util::run_command({{"openssl", "req", "-x509", "-utf8", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.string(),
                              "-out", cert.string(), "-days", "3650", "-subj", subjects[i]}});
      ASSERT_TRUE(made.ok());
      ASSERT_EQ(made->exit_code, 0) << made->stderr_data;
      auto converted = util::run_command(
          {{"openssl", "x509", "-in", cert.string(), "-outform", "DER", "-out", der.string()}});
      ASSERT_TRUE(converted.ok());
      ASSERT_EQ(converted->exit_code, 0) << converted->stderr_data;
      s_certs.push_back({*util::read_file(cert), *util::read_file(der)});
    }
    s_key_pem = *util::read_file(s_dir->path() / "key0.pem");
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

  // All certificates with a private key block and comment text mixed in.
  static std::string bundle() {
    std::string text = "# a comment line\n" + s_certs[0].pem + s_key_pem;
    for (size_t i = 1; i < s_certs.size(); ++i) {
      text += "\n" + s_certs[i].pem;
    }
    return text;
  }

  static fs::path write_store(const std::string& name, const std::string& bytes) {
    fs::path path = s_dir->path() / name;
    EXPECT_TRUE(util::write_file_atomic(path, bytes).ok());
    return path;
  }

  static util::CommandResult keytool(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"keytool"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = util::run_command({argv});
    EXPECT_TRUE(result.ok());
    return result.ok() ? *result : util::CommandResult{-1, "", ""};
  }

  static inline std::unique_ptr<util::TempDir> s_dir;
  static inline std::vector<TestCert> s_certs;
  static inline std::string s_key_pem;
};

TEST_F(JavaTruststoreTest, WritesEveryCertificateInBundleOrder) {
  auto store = make_java_truststore(bundle(), k_epoch);
  ASSERT_TRUE(store.ok()) << store.error().message;
  std::vector<ParsedEntry> entries;
  ASSERT_TRUE(JksReader(*store).parse("changeit", entries));
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].alias, "debian:distill_test_root_=a=.pem");
  EXPECT_EQ(entries[1].alias, "debian:only_unit.pem");                 // no CN: the OU
  EXPECT_EQ(entries[2].alias, "debian:f\xc5\x91_root__\xc3\x9f.pem");  // "fő_root__ß"
  EXPECT_EQ(entries[3].alias, "debian:distill_test_root_=a=_2.pem");   // repeated name
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].date_millis, static_cast<uint64_t>(k_epoch) * 1000u);
    EXPECT_EQ(entries[i].type, "X.509");
    EXPECT_EQ(entries[i].der, s_certs[i].der) << "entry " << i;
  }
}

TEST_F(JavaTruststoreTest, SameInputGivesSameBytes) {
  auto first = make_java_truststore(bundle(), k_epoch);
  auto second = make_java_truststore(bundle(), k_epoch);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  auto later = make_java_truststore(bundle(), k_epoch + 1);
  ASSERT_TRUE(later.ok());
  EXPECT_NE(*first, *later);
}

TEST_F(JavaTruststoreTest, PasswordKeysTheIntegrityDigest) {
  auto store = make_java_truststore(bundle(), k_epoch, "s3cret");
  ASSERT_TRUE(store.ok());
  std::vector<ParsedEntry> entries;
  EXPECT_TRUE(JksReader(*store).parse("s3cret", entries));
  entries.clear();
  EXPECT_FALSE(JksReader(*store).parse("changeit", entries));
}

TEST_F(JavaTruststoreTest, KeytoolListsEveryEntry) {
  if (util::find_program("keytool").empty()) {
    GTEST_SKIP() << "keytool not installed";
  }
  auto store = make_java_truststore(bundle(), k_epoch);
  ASSERT_TRUE(store.ok());
  fs::path path = write_store("cacerts", *store);
  util::CommandResult listed =
      keytool({"-list", "-v", "-keystore", path.string(), "-storepass", "changeit"});
  ASSERT_EQ(listed.exit_code, 0) << listed.stdout_data << listed.stderr_data;
  EXPECT_NE(listed.stdout_data.find("Keystore type: JKS"), std::string::npos) << listed.stdout_data;
  EXPECT_NE(listed.stdout_data.find("Your keystore contains 4 entries"), std::string::npos)
      << listed.stdout_data;
  EXPECT_NE(listed.stdout_data.find("Alias name: debian:distill_test_root_=a=.pem"),
            std::string::npos);
  EXPECT_NE(listed.stdout_data.find("Alias name: debian:only_unit.pem"), std::string::npos);
  EXPECT_NE(listed.stdout_data.find("Alias name: debian:distill_test_root_=a=_2.pem"),
            std::string::npos);
  EXPECT_NE(listed.stdout_data.find("Entry type: trustedCertEntry"), std::string::npos);

  util::CommandResult wrong =
      keytool({"-list", "-keystore", path.string(), "-storepass", "notthepassword"});
  EXPECT_NE(wrong.exit_code, 0) << wrong.stdout_data;
  EXPECT_NE((wrong.stdout_data + wrong.stderr_data).find("password was incorrect"),
            std::string::npos)
      << wrong.stdout_data << wrong.stderr_data;
}

TEST_F(JavaTruststoreTest, KeytoolAcceptsAnotherPassword) {
  if (util::find_program("keytool").empty()) {
    GTEST_SKIP() << "keytool not installed";
  }
  auto store = make_java_truststore(s_certs[1].pem, k_epoch, "s3cret");
  ASSERT_TRUE(store.ok());
  fs::path path = write_store("cacerts-s3cret", *store);
  util::CommandResult listed =
      keytool({"-list", "-keystore", path.string(), "-storepass", "s3cret"});
  ASSERT_EQ(listed.exit_code, 0) << listed.stdout_data << listed.stderr_data;
  EXPECT_NE(listed.stdout_data.find("Your keystore contains 1 entry"), std::string::npos)
      << listed.stdout_data;
}

TEST_F(JavaTruststoreTest, BundleWithoutCertificatesIsInvalidInput) {
  for (const std::string& text : {std::string(), std::string("no pem here\n"), s_key_pem}) {
    auto store = make_java_truststore(text, k_epoch);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().kind, ErrorKind::InvalidInput) << store.error().message;
  }
}

TEST_F(JavaTruststoreTest, UndecodableCertificateIsCorruptAndNamesItsIndex) {
  std::string garbage =
      "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
  auto store = make_java_truststore(s_certs[0].pem + s_key_pem + garbage, k_epoch);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(store.error().message.find("certificate 2"), std::string::npos)
      << store.error().message;
}

TEST_F(JavaTruststoreTest, BrokenPemArmourIsCorrupt) {
  std::string truncated = s_certs[1].pem.substr(0, s_certs[1].pem.size() / 2);
  auto store = make_java_truststore(s_certs[0].pem + truncated, k_epoch);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(store.error().message.find("certificate 2"), std::string::npos)
      << store.error().message;
}

TEST_F(JavaTruststoreTest, RejectsBadDateAndPassword) {
  auto negative = make_java_truststore(s_certs[0].pem, -1);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().kind, ErrorKind::InvalidInput);
  auto overflow = make_java_truststore(s_certs[0].pem, INT64_MAX / 10);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().kind, ErrorKind::InvalidInput);
  auto bad_password = make_java_truststore(s_certs[0].pem, k_epoch, "\xff\xfe");
  ASSERT_FALSE(bad_password.ok());
  EXPECT_EQ(bad_password.error().kind, ErrorKind::InvalidInput);
}

}  // namespace
}  // namespace distill::image
