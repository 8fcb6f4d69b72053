// Credentials in source URLs (issue 11, item 8): split off where a URL is read
// and never seen again in it; sent by the curl client, found like apt finds
// them (the URL's own, then /etc/apt/auth.conf and auth.conf.d/*.conf).
#include <gtest/gtest.h>

#include "net/credentials.hpp"
#include "net/http_client.hpp"
#include "test_server.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::net {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-credentials-");
    ASSERT_TRUE(dir.ok());
    m_root = std::make_unique<util::TempDir>(std::move(*dir));
    std::filesystem::create_directories(m_root->path() / "etc/apt/auth.conf.d");
    reset_credentials_for_tests(m_root->path());
  }
  void TearDown() override { reset_credentials_for_tests("/"); }
  void auth_conf(const std::string& name, const std::string& text) {
    ASSERT_TRUE(util::write_file_atomic(m_root->path() / "etc/apt" / name, text).ok());
  }
  std::unique_ptr<util::TempDir> m_root;
};

TEST_F(CredentialsTest, UserinfoIsStrippedAndRemembered) {
  EXPECT_EQ(strip_credentials("http://user:p%40ss@127.0.0.1:8080/debian"),
            "http://127.0.0.1:8080/debian");
  EXPECT_EQ(strip_credentials("https://mirror.invalid/debian"), "https://mirror.invalid/debian");
  auto found = credentials_for("http://127.0.0.1:8080/debian/dists/bookworm/InRelease");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->login, "user");
  EXPECT_EQ(found->password, "p@ss");
  // Not for another port, another path or another scheme.
  EXPECT_FALSE(credentials_for("http://127.0.0.1:8081/debian/x").has_value());
  EXPECT_FALSE(credentials_for("http://127.0.0.1:8080/debian-security/x").has_value());
  EXPECT_FALSE(credentials_for("https://127.0.0.1:8080/debian/x").has_value());
}

TEST_F(CredentialsTest, RedactHidesUserinfo) {
  EXPECT_EQ(redact_url("http://u:secret@h/p"), "http://***@h/p");
  EXPECT_EQ(redact_url("http://h/p"), "http://h/p");
}

TEST_F(CredentialsTest, AuthConfLongestMachineWinsAndSchemelessIsHttpsOnly) {
  auth_conf("auth.conf", "machine repo.invalid login all password a1\n");
  auth_conf("auth.conf.d/10-team.conf",
            "# team area\nmachine repo.invalid/team login team password t1\n"
            "machine http://plain.invalid:8080/debian login plain password p1\n");
  auto team = credentials_for("https://repo.invalid/team/dists/x/InRelease");
  ASSERT_TRUE(team.has_value());
  EXPECT_EQ(team->login, "team");
  auto all = credentials_for("https://repo.invalid/other");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->password, "a1");
  EXPECT_FALSE(credentials_for("http://repo.invalid/other").has_value());
  auto plain = credentials_for("http://plain.invalid:8080/debian/pool/a.deb");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->login, "plain");
  EXPECT_FALSE(credentials_for("http://plain.invalid:8080/debianx").has_value());
}

// The curl client sends the credentials of a stripped URL, and only the
// stripped URL appears in its messages.
TEST_F(CredentialsTest, CurlClientSendsThemAndNeverPrintsThem) {
  auto dir = util::TempDir::create("distill-credentials-root-");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(util::write_file_atomic(dir->path() / "f.txt", "secret data").ok());
  testing::TestServer server;
  if (!server.start(dir->path(), {"--basic-auth", "alice:s3cret"})) {
    GTEST_SKIP() << "python3 not available";
  }
  auto client = make_curl_client();
  std::string base = server.url("/");
  auto denied = client->send({.url = base + "f.txt"});
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied->status, 401);

  std::string with_userinfo = "http://alice:s3cret@" + base.substr(7);
  std::string stripped = strip_credentials(with_userinfo);
  EXPECT_EQ(stripped, base);
  auto allowed = client->send({.url = stripped + "f.txt"});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(allowed->body, "secret data");
  HttpRequest missing{.url = stripped + "missing"};
  std::string sunk;
  auto error = client->download(
      missing,
      [&](std::string_view d) -> Status {
        sunk += d;
        return {};
      },
      [] {}, {});
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().message.find("s3cret"), std::string::npos) << error.error().message;
}

}  // namespace
}  // namespace distill::net
