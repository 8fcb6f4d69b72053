// Credential discovery (oci/credentials.hpp): the order of the sources, the
// auth file formats (auths, credHelpers, credsStore), and a real
// docker-credential-NAME program speaking the helper protocol.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <string>

#include "oci/credentials.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {
namespace {

namespace fs = std::filesystem;

// base64("alice:s3cret") and base64("bob:hunter2")
constexpr const char* k_alice = "YWxpY2U6czNjcmV0";
constexpr const char* k_bob = "Ym9iOmh1bnRlcjI=";

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-creds-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    options.getenv = [this](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    options.run_helper =
        [this](const std::string& helper,
               const std::string& server) -> Result<std::optional<RegistryCredentials>> {
      helper_calls.push_back(helper + " " + server);
      if (helper == "pass") {
        return std::optional<RegistryCredentials>(
            RegistryCredentials{"carol", "from-helper", "docker-credential-pass"});
      }
      return std::optional<RegistryCredentials>();
    };
  }
  fs::path write(const std::string& name, const std::string& text) {
    fs::path file = m_dir->path() / name;
    fs::create_directories(file.parent_path());
    EXPECT_TRUE(util::write_file_atomic(file, text).ok());
    return file;
  }
  static std::string auths(const std::string& registry, const std::string& auth) {
    return R"({"auths":{")" + registry + R"(":{"auth":")" + auth + R"("}}})";
  }
  std::string found_user(const std::string& registry = "reg.test:5000",
                         const std::string& repository = "team/app") {
    auto found = find_credentials(registry, repository, options);
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() && found->has_value() ? (*found)->username : std::string("<none>");
  }

  std::unique_ptr<util::TempDir> m_dir;
  std::map<std::string, std::string> env;
  std::vector<std::string> helper_calls;
  CredentialOptions options;
};

TEST_F(CredentialsTest, ParseKeepsColonsInThePasswordAndNeverEchoesIt) {
  auto creds = parse_credentials("u:p:q", "--src-creds");
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->username, "u");
  EXPECT_EQ(creds->password, "p:q");
  EXPECT_EQ(creds->origin, "--src-creds");
  auto bad = parse_credentials("secretwithoutcolon", "--dest-creds");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("secretwithoutcolon"), std::string::npos);
  EXPECT_NE(bad.error().message.find("--dest-creds"), std::string::npos);
  EXPECT_TRUE(bad.error().message.starts_with("usage:"));  // exit code 2
}

TEST_F(CredentialsTest, DiscoveryOrder) {
  // Only the lowest source: ~/.dockercfg, docker's legacy file (the auths map alone).
  env["HOME"] = (m_dir->path() / "home").string();
  write("home/.dockercfg",
        R"({"reg.test:5000":{"auth":")" + std::string(k_alice) + R"(","email":"a@example.org"}})");
  EXPECT_EQ(found_user(), "alice");

  // ~/.docker/config.json before it.
  write("home/.docker/config.json", auths("reg.test:5000", k_bob));
  EXPECT_EQ(found_user(), "bob");

  // $DOCKER_CONFIG replaces ~/.docker (as docker does).
  env["DOCKER_CONFIG"] = (m_dir->path() / "dockercfg").string();
  write("dockercfg/config.json", auths("reg.test:5000", k_alice));
  EXPECT_EQ(found_user(), "alice");

  // ~/.config/containers/auth.json before docker's files; $XDG_CONFIG_HOME moves it.
  write("home/.config/containers/auth.json",
        R"({"auths":{"reg.test:5000":{"username":"gina","password":"pw"}}})");
  EXPECT_EQ(found_user(), "gina");
  env["XDG_CONFIG_HOME"] = (m_dir->path() / "config").string();
  EXPECT_EQ(found_user(), "alice");
  write("config/containers/auth.json",
        R"({"auths":{"reg.test:5000":{"username":"hank","password":"pw"}}})");
  EXPECT_EQ(found_user(), "hank");

  // $XDG_RUNTIME_DIR/containers/auth.json before that.
  env["XDG_RUNTIME_DIR"] = (m_dir->path() / "run").string();
  write("run/containers/auth.json",
        R"({"auths":{"reg.test:5000":{"username":"dave","password":"pw"}}})");
  EXPECT_EQ(found_user(), "dave");

  // $REGISTRY_AUTH_FILE instead of $XDG_RUNTIME_DIR's file.
  env["REGISTRY_AUTH_FILE"] = write("registry-auth.json", auths("other.test", k_bob)).string();
  EXPECT_EQ(found_user(), "hank");
  EXPECT_EQ(found_user("other.test"), "bob");

  // --authfile instead of both.
  options.auth_file = write("authfile.json", auths("reg.test:5000", k_alice));
  EXPECT_EQ(found_user(), "alice");
  EXPECT_EQ(found_user("other.test"), "<none>");

  // The command's flag wins over everything.
  options.explicit_credentials = RegistryCredentials{"erin", "x", "--creds"};
  EXPECT_EQ(found_user(), "erin");

  // A file without an entry for the registry passes the search on.
  options.explicit_credentials.reset();
  EXPECT_EQ(found_user("third.test"), "<none>");
  write("dockercfg/config.json", auths("third.test", k_bob));
  EXPECT_EQ(found_user("third.test"), "bob");

  auto candidates = auth_file_candidates(options);
  ASSERT_EQ(candidates.size(), 4U);
  EXPECT_EQ(candidates[0].path, options.auth_file);
  EXPECT_EQ(candidates[1].path, m_dir->path() / "config" / "containers" / "auth.json");
  EXPECT_EQ(candidates[2].path, m_dir->path() / "dockercfg" / "config.json");
  EXPECT_EQ(candidates[3].path, m_dir->path() / "home" / ".dockercfg");
  EXPECT_EQ(candidates[3].format, AuthFileFormat::Dockercfg);
}

TEST_F(CredentialsTest, TheMostSpecificRepositoryKeyWins) {
  // What `podman login reg.test:5000/team/app` and `podman login reg.test:5000/team` write.
  env["XDG_RUNTIME_DIR"] = (m_dir->path() / "run").string();
  write("run/containers/auth.json",
        R"({"auths":{"reg.test:5000/team/app":{"auth":")" + std::string(k_alice) +
            R"("},"reg.test:5000/team":{"auth":")" + std::string(k_bob) + R"("}}})");
  EXPECT_EQ(found_user("reg.test:5000", "team/app"), "alice");
  EXPECT_EQ(found_user("reg.test:5000", "team/other"), "bob");
  EXPECT_EQ(found_user("reg.test:5000", "team/app/sub"), "alice");
  // Only whole path components match, and a repository key is no host key.
  EXPECT_EQ(found_user("reg.test:5000", "teamwork"), "<none>");
  EXPECT_EQ(found_user("reg.test:5000", "other/app"), "<none>");

  // The host's key serves the rest, after the repository keys.
  write("run/containers/auth.json",
        R"({"auths":{"reg.test:5000":{"auth":")" + std::string(k_bob) +
            R"("},"reg.test:5000/a":{"username":"dave","password":"pw"}}})");
  EXPECT_EQ(found_user("reg.test:5000", "a/s"), "dave");
  EXPECT_EQ(found_user("reg.test:5000", "b/s"), "bob");

  // ~/.dockercfg is keyed by host only.
  env.erase("XDG_RUNTIME_DIR");
  env["HOME"] = (m_dir->path() / "home").string();
  write("home/.dockercfg", R"({"reg.test:5000/a":{"auth":")" + std::string(k_alice) + R"("}})");
  EXPECT_EQ(found_user("reg.test:5000", "a/s"), "<none>");
}

TEST_F(CredentialsTest, MissingAuthFileFlagIsAnErrorOthersAreSkipped) {
  env["REGISTRY_AUTH_FILE"] = (m_dir->path() / "absent.json").string();
  EXPECT_EQ(found_user(), "<none>");
  options.auth_file = m_dir->path() / "absent-too.json";
  auto found = find_credentials("reg.test:5000", "team/app", options);
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.error().message.find("absent-too.json"), std::string::npos);
}

TEST_F(CredentialsTest, HelpersAndStores) {
  env["DOCKER_CONFIG"] = (m_dir->path() / "d").string();
  // credHelpers for the host wins over an auths entry.
  write("d/config.json", R"({"auths":{"reg.test:5000":{"auth":")" + std::string(k_bob) +
                             R"("}},"credHelpers":{"reg.test:5000":"pass"}})");
  EXPECT_EQ(found_user(), "carol");
  ASSERT_EQ(helper_calls.size(), 1U);
  EXPECT_EQ(helper_calls[0], "pass reg.test:5000");

  // credsStore serves hosts whose auths entry is empty (what `docker login` leaves).
  write("d/config.json", R"({"auths":{"reg.test:5000":{}},"credsStore":"pass"})");
  EXPECT_EQ(found_user(), "carol");
  // Docker Hub is asked for under its historical server name.
  helper_calls.clear();
  EXPECT_EQ(found_user("docker.io"), "carol");
  ASSERT_EQ(helper_calls.size(), 1U);
  EXPECT_EQ(helper_calls[0], "pass https://index.docker.io/v1/");

  // A store without the host's credentials: anonymous.
  write("d/config.json", R"({"credsStore":"empty"})");
  EXPECT_EQ(found_user(), "<none>");

  // Docker Hub's keys in auths.
  write("d/config.json", auths("https://index.docker.io/v1/", k_alice));
  EXPECT_EQ(found_user("docker.io"), "alice");

  write("d/config.json", R"({"auths":{"reg.test:5000":{"auth":"!!"}}})");
  auto bad = find_credentials("reg.test:5000", "team/app", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("config.json"), std::string::npos);
}

TEST_F(CredentialsTest, RealHelperProgram) {
  // A docker-credential-NAME on PATH answering the helper protocol.
  fs::path bin = m_dir->path() / "bin";
  write("bin/docker-credential-fake",
        "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread server\n"
        "if [ \"$server\" = reg.test:5000 ]; then\n"
        "  printf '{\"ServerURL\":\"%s\",\"Username\":\"frank\",\"Secret\":\"s\"}' \"$server\"\n"
        "else\n  echo 'credentials not found in native keychain'; exit 1\nfi\n");
  fs::permissions(bin / "docker-credential-fake", fs::perms::owner_all);
  std::string old_path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  ::setenv("PATH", (bin.string() + ":" + old_path).c_str(), 1);
  auto found = run_credential_helper("fake", "reg.test:5000");
  auto absent = run_credential_helper("fake", "other.test");
  auto missing = run_credential_helper("nosuchhelper", "reg.test:5000");
  ::setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, "frank");
  EXPECT_EQ((*found)->password, "s");
  EXPECT_EQ((*found)->origin, "docker-credential-fake");
  ASSERT_TRUE(absent.ok()) << absent.error().message;
  EXPECT_FALSE(absent->has_value());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("docker-credential-nosuchhelper"), std::string::npos);
}

}  // namespace
}  // namespace distill::oci
