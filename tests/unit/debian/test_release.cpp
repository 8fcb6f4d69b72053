// Release/InRelease parsing and gpgv verification tests (release.hpp). Signatures
// are made with throwaway keys generated in a temporary GNUPGHOME.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "debian/apt_sources.hpp"
#include "debian/release.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::debian {
namespace {

const char* const k_release =
    "Origin: Test\n"
    "Suite: stable\n"
    "Codename: testing-codename\n"
    "Date: Sat, 11 Jul 2026 10:16:37 UTC\n"
    "Valid-Until: Sat, 18 Jul 2026 10:16:37 UTC\n"
    "Acquire-By-Hash: yes\n"
    "No-Support-for-Architecture-all: Packages\n"
    "Architectures: all amd64 arm64\n"
    "Components: main contrib\n"
    "Description: a test\n"
    "MD5Sum:\n"
    " d41d8cd98f00b204e9800998ecf8427e 0 main/binary-amd64/Packages\n"
    "SHA256:\n"
    " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855        0 "
    "main/binary-amd64/Packages\n"
    " 0320B58C17C58FFA9FFC0583B924BB5BE7C086DA8C630428D5587D563A66972F   380972 "
    "main/binary-amd64/Packages.xz\n"
    "- dash line that must be escaped: ok\n";

TEST(Release, ParsesFieldsAndChecksums) {
  // The last line is not deb822 at top level; parse only the part before it.
  std::string text(k_release);
  text = text.substr(0, text.find("- dash"));
  auto release = parse_release(text, "InRelease");
  ASSERT_TRUE(release.ok()) << release.error().message;
  EXPECT_EQ(release->suite, "stable");
  EXPECT_EQ(release->codename, "testing-codename");
  EXPECT_TRUE(release->acquire_by_hash);
  EXPECT_TRUE(release->all_in_arch_indexes);
  EXPECT_EQ(release->architectures, (std::vector<std::string>{"all", "amd64", "arm64"}));
  EXPECT_EQ(release->components, (std::vector<std::string>{"main", "contrib"}));
  ASSERT_EQ(release->sha256.size(), 2u);
  const ReleaseEntry& xz = release->sha256.at("main/binary-amd64/Packages.xz");
  EXPECT_EQ(xz.size, 380972u);
  EXPECT_EQ(xz.sha256, "0320b58c17c58ffa9ffc0583b924bb5be7c086da8c630428d5587d563a66972f");

  auto bad = parse_release("Suite: x\nSHA256:\n nothex 12 main/x\n", "R");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("R:3:"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(
      parse_release("Suite: x\nSHA256:\n " + std::string(64, 'a') + " 1x main/x\n", "R").ok());
}

TEST(Release, ValidUntil) {
  ReleaseFile release;
  EXPECT_TRUE(check_valid_until(release, 2000000000, "R").ok());  // absent: fine
  release.valid_until = "Sat, 18 Jul 2026 10:16:37 UTC";
  auto t = parse_release_date(release.valid_until);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 1784369797);
  EXPECT_TRUE(check_valid_until(release, *t - 1, "R").ok());
  auto expired = check_valid_until(release, *t + 1, "http://x/dists/s/InRelease");
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(expired.error().message.find("http://x/dists/s/InRelease"), std::string::npos);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);

  auto offset = parse_release_date("18 Jul 2026 12:16:37 +0200");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 1784369797);
  EXPECT_FALSE(parse_release_date("yesterday").ok());
  release.valid_until = "garbage";
  EXPECT_FALSE(check_valid_until(release, 0, "R").ok());
}

TEST(Release, ClearsignedPayloadIsStrict) {
  std::string good =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: a\n- -dashed\n"
      "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";
  auto payload = clearsigned_payload(good, "IR");
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  EXPECT_EQ(*payload, "Suite: a\n-dashed\n");
  EXPECT_FALSE(clearsigned_payload("Suite: a\n", "IR").ok());
  EXPECT_FALSE(clearsigned_payload(good + "Suite: injected\n", "IR").ok());
  EXPECT_FALSE(clearsigned_payload("Extra\n" + good, "IR").ok());
  std::string unterminated = good.substr(0, good.find("-----END"));
  EXPECT_FALSE(clearsigned_payload(unterminated, "IR").ok());
}

TEST(Release, HeaderFieldIsWhatTheFullParseFinds) {
  const std::string plain =
      "Origin: Debian\nDescription: x\n Date: not a field\nSuite: stable\n"
      "date: Sat, 11 Jul 2026 10:16:37 UTC \nSHA256:\n " +
      std::string(64, 'a') + " 10 main/Packages\n";
  const std::string signed_text =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + plain +
      "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";
  auto full = parse_release(plain, "R");
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->date, "Sat, 11 Jul 2026 10:16:37 UTC");
  EXPECT_EQ(release_header_field(plain, "Date"), full->date);
  EXPECT_EQ(release_header_field(signed_text, "Date"), full->date);
  EXPECT_EQ(release_header_field(signed_text, "Suite"), "stable");
  // The armor's own header is not the paragraph's; a field after the paragraph
  // or only inside a continuation line is not found.
  EXPECT_EQ(release_header_field(signed_text, "Hash"), "");
  EXPECT_EQ(release_header_field("Suite: a\r\n\r\nDate: later\n", "Date"), "");
  EXPECT_EQ(release_header_field("Suite: a\r\nDate: now\r\n", "Date"), "now");
  EXPECT_EQ(release_header_field("-----BEGIN PGP SIGNED MESSAGE-----\nDate: x\n", "Date"), "");
}

// Two throwaway signing keys: `trusted` (exported into the keyrings) and `stranger`.
class ReleaseSignature : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (util::find_program("gpg").empty() || util::find_program("gpgv").empty()) {
      return;
    }
    auto dir = util::TempDir::create("distill-gpg-");
    ASSERT_TRUE(dir.ok());
    s_dir = std::make_unique<util::TempDir>(std::move(*dir));
    std::string script = R"(
      set -e
      export GNUPGHOME="$1/home"
      mkdir -m 700 "$GNUPGHOME"
      gpg --batch --quiet --passphrase '' --quick-gen-key 'Trusted <trusted@test.invalid>' ed25519 sign never
      gpg --batch --quiet --passphrase '' --quick-gen-key 'Stranger <stranger@test.invalid>' ed25519 sign never
      gpg --batch --export trusted@test.invalid > "$1/trusted.gpg"
      gpg --batch --armor --export trusted@test.invalid > "$1/trusted.asc"
      gpg --batch --quiet --local-user trusted@test.invalid --clearsign -o "$1/InRelease" "$1/Release"
      gpg --batch --quiet --local-user trusted@test.invalid --armor --detach-sign -o "$1/Release.gpg" "$1/Release"
      gpg --batch --quiet --local-user stranger@test.invalid --clearsign -o "$1/InRelease.stranger" "$1/Release"
      gpgconf --kill gpg-agent || true
    )";
    ASSERT_TRUE(util::write_file_atomic(s_dir->path() / "Release", k_release).ok());
    util::Command command;
    command.argv = {"bash", "-c", script, "bash", s_dir->path().string()};
    auto result = util::run_command(command);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->exit_code, 0) << result->stderr_data;
    s_ready = true;
  }
  static void TearDownTestSuite() { s_dir.reset(); }

  void SetUp() override {
    if (!s_ready) {
      GTEST_SKIP() << "gpg/gpgv not available";
    }
  }

  static std::string read(const std::string& name) {
    auto data = util::read_file(s_dir->path() / name);
    return data.ok() ? *data : std::string();
  }
  static std::string path(const std::string& name) { return (s_dir->path() / name).string(); }

  static inline std::unique_ptr<util::TempDir> s_dir;
  static inline bool s_ready = false;
};

TEST_F(ReleaseSignature, GoodClearsignedReturnsPayload) {
  auto payload = verify_clearsigned(read("InRelease"), path("trusted.gpg"), "http://r/InRelease");
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  EXPECT_EQ(*payload, k_release);
  // An armored keyring file and an inline armored key work too.
  EXPECT_TRUE(verify_clearsigned(read("InRelease"), path("trusted.asc"), "r").ok());
  auto inline_key = verify_clearsigned(read("InRelease"), read("trusted.asc"), "r");
  EXPECT_TRUE(inline_key.ok()) << inline_key.error().message;
}

TEST_F(ReleaseSignature, TamperedClearsignedIsCorrupt) {
  std::string text = read("InRelease");
  size_t at = text.find("380972");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 6, "380973");
  auto result = verify_clearsigned(text, path("trusted.gpg"), "http://r/dists/s/InRelease");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(result.error().message.find("http://r/dists/s/InRelease"), std::string::npos);
  EXPECT_NE(result.error().message.find("BAD signature"), std::string::npos)
      << result.error().message;
}

TEST_F(ReleaseSignature, UnknownKeyIsCorrupt) {
  auto result = verify_clearsigned(read("InRelease.stranger"), path("trusted.gpg"), "http://r/IR");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(result.error().message.find("not in the keyring"), std::string::npos)
      << result.error().message;
}

TEST_F(ReleaseSignature, MissingKeyringIsReported) {
  auto result = verify_clearsigned(read("InRelease"), path("nonexistent.gpg"), "r");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("nonexistent.gpg"), std::string::npos);
}

TEST_F(ReleaseSignature, DetachedSignature) {
  std::string release = read("Release");
  std::string signature = read("Release.gpg");
  EXPECT_TRUE(verify_detached(release, signature, path("trusted.gpg"), "r").ok());
  auto tampered =
      verify_detached(release + "X", signature, path("trusted.gpg"), "http://r/Release");
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(tampered.error().message.find("http://r/Release"), std::string::npos);
}

TEST(ReleaseDebian, RealSecurityInReleaseVerifiesWithDebianKeyring) {
  std::filesystem::path file = std::filesystem::path(DISTILL_SOURCE_DIR) /
                               "tests/unit/debian/data/bookworm-security-InRelease";
  if (!std::filesystem::exists("/usr/share/keyrings/debian-archive-keyring.gpg") ||
      util::find_program("gpgv").empty()) {
    GTEST_SKIP() << "debian-archive-keyring or gpgv not installed";
  }
  auto text = util::read_file(file);
  ASSERT_TRUE(text.ok()) << text.error().message;
  auto payload =
      verify_clearsigned(*text, "/usr/share/keyrings/debian-archive-keyring.gpg", file.string());
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  auto release = parse_release(*payload, file.string());
  ASSERT_TRUE(release.ok()) << release.error().message;
  EXPECT_EQ(release->codename, "bookworm-security");
  EXPECT_TRUE(release->acquire_by_hash);
  EXPECT_EQ(release->sha256.count("main/binary-amd64/Packages.xz"), 1u);
  // One byte changed in the payload: the signature no longer matches.
  std::string tampered = *text;
  tampered[tampered.find("Debian 12")] = 'd';
  EXPECT_FALSE(
      verify_clearsigned(tampered, "/usr/share/keyrings/debian-archive-keyring.gpg", "x").ok());
}

}  // namespace
}  // namespace distill::debian
