// APT sources parsing tests (apt_sources.hpp).
#include <gtest/gtest.h>

#include "debian/apt_sources.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::debian {
namespace {

TEST(AptSources, Deb822WithCommentsSeveralUrisAndDisabledStanzas) {
  const char* text =
      "Types: deb deb-src\n"
      "# http://mirror.invalid/archive/debian/20250520T000000Z\n"
      "URIs: http://a.invalid/debian/ http://b.invalid/debian\n"
      "Suites: bookworm bookworm-updates\n"
      "Components: main contrib\n"
      "Architectures: amd64 arm64\n"
      "\n"
      "Types: deb-src\n"
      "URIs: http://src.invalid/debian\n"
      "Suites: bookworm\n"
      "\n"
      "Enabled: no\n"
      "Types: deb\n"
      "URIs: http://off.invalid/debian\n"
      "Suites: bookworm\n"
      "\n"
      "Types: deb\n"
      "URIs: http://sec.invalid/debian-security\n"
      "Suites: bookworm-security\n"
      "Components: main\n"
      "Signed-By: /etc/apt/keyrings/custom.gpg\n"
      "Check-Valid-Until: no\n";
  auto parsed = parse_sources_deb822(text, "debian.sources");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  const auto& s = *parsed;
  EXPECT_EQ(s[0].url, "http://a.invalid/debian");
  EXPECT_EQ(s[1].url, "http://b.invalid/debian");
  EXPECT_EQ(s[0].suites, (std::vector<std::string>{"bookworm", "bookworm-updates"}));
  EXPECT_EQ(s[0].components, (std::vector<std::string>{"main", "contrib"}));
  EXPECT_EQ(s[0].archs, (std::vector<std::string>{"amd64", "arm64"}));
  EXPECT_EQ(s[0].keyring, k_default_keyring);
  EXPECT_EQ(s[0].origin, "debian.sources:1");
  EXPECT_TRUE(s[0].check_valid_until);
  EXPECT_EQ(s[2].keyring, "/etc/apt/keyrings/custom.gpg");
  EXPECT_EQ(s[2].origin, "debian.sources:17");
  EXPECT_FALSE(s[2].check_valid_until);
}

TEST(AptSources, Deb822InlineKey) {
  const char* text =
      "Types: deb\n"
      "URIs: http://x.invalid/repo\n"
      "Suites: stable\n"
      "Components: main\n"
      "Signed-By:\n"
      " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
      " .\n"
      " mQENBF...\n"
      " =abcd\n"
      " -----END PGP PUBLIC KEY BLOCK-----\n";
  auto parsed = parse_sources_deb822(text, "x.sources");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_TRUE(is_inline_key((*parsed)[0].keyring));
  EXPECT_EQ((*parsed)[0].keyring,
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBF...\n=abcd\n"
            "-----END PGP PUBLIC KEY BLOCK-----\n");
}

TEST(AptSources, Deb822Errors) {
  auto no_uris = parse_sources_deb822("Types: deb\nSuites: x\n", "f.sources");
  ASSERT_FALSE(no_uris.ok());
  EXPECT_NE(no_uris.error().message.find("f.sources:1: missing URIs"), std::string::npos);
  EXPECT_FALSE(parse_sources_deb822("URIs: http://x\nSuites: x\n", "f").ok());
  EXPECT_FALSE(parse_sources_deb822("Types: deb\nURIs: http://x\n", "f").ok());
}

TEST(AptSources, OneLineFormat) {
  const char* text =
      "# comment\n"
      "deb http://deb.invalid/debian bookworm main contrib\n"
      "deb-src http://deb.invalid/debian bookworm main\n"
      "deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/x.gpg check-valid-until=no] "
      "http://sec.invalid/debian-security/ bookworm-security main # trailing\n"
      "\n";
  auto parsed = parse_sources_list(text, "sources.list");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  const auto& s = *parsed;
  EXPECT_EQ(s[0].url, "http://deb.invalid/debian");
  EXPECT_EQ(s[0].suites, std::vector<std::string>{"bookworm"});
  EXPECT_EQ(s[0].components, (std::vector<std::string>{"main", "contrib"}));
  EXPECT_EQ(s[0].origin, "sources.list:2");
  EXPECT_EQ(s[1].url, "http://sec.invalid/debian-security");
  EXPECT_EQ(s[1].archs, (std::vector<std::string>{"amd64", "arm64"}));
  EXPECT_EQ(s[1].keyring, "/usr/share/keyrings/x.gpg");
  EXPECT_FALSE(s[1].check_valid_until);
  EXPECT_EQ(s[1].origin, "sources.list:4");

  auto bad = parse_sources_list("deb http://x\n", "l");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("l:1:"), std::string::npos);
  EXPECT_FALSE(parse_sources_list("rpm http://x a b\n", "l").ok());
  EXPECT_FALSE(parse_sources_list("deb [arch=amd64 http://x a b\n", "l").ok());
}

TEST(AptSources, ReadHostSourcesFiltersByCodename) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  auto root = dir->path();
  std::filesystem::create_directories(root / "etc/apt/sources.list.d");
  ASSERT_TRUE(util::write_file_atomic(root / "etc/apt/sources.list",
                                      "deb http://old.invalid/debian bullseye main\n"
                                      "deb http://one.invalid/debian bookworm main\n")
                  .ok());
  ASSERT_TRUE(util::write_file_atomic(root / "etc/apt/sources.list.d/debian.sources",
                                      "Types: deb\nURIs: http://two.invalid/debian\n"
                                      "Suites: bookworm bookworm-updates bookwormish trixie\n"
                                      "Components: main\n\n"
                                      "Types: deb\nURIs: http://sec.invalid/debian-security\n"
                                      "Suites: bookworm-security\nComponents: main\n")
                  .ok());
  ASSERT_TRUE(util::write_file_atomic(root / "etc/apt/sources.list.d/other.list.disabled",
                                      "deb http://ignored.invalid/x bookworm main\n")
                  .ok());
  auto sources = read_host_sources(root, "bookworm");
  ASSERT_TRUE(sources.ok()) << sources.error().message;
  ASSERT_EQ(sources->size(), 3u);
  EXPECT_EQ((*sources)[0].url, "http://one.invalid/debian");
  EXPECT_EQ((*sources)[1].url, "http://two.invalid/debian");
  EXPECT_EQ((*sources)[1].suites, (std::vector<std::string>{"bookworm", "bookworm-updates"}));
  EXPECT_EQ((*sources)[2].suites, std::vector<std::string>{"bookworm-security"});

  auto none = read_host_sources(root / "nonexistent", "bookworm");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace distill::debian

namespace distill::debian {
namespace {

TEST(AptConf, CheckValidUntilForms) {
  EXPECT_TRUE(apt_conf_disables_valid_until("Acquire::Check-Valid-Until \"false\";\n"));
  EXPECT_TRUE(apt_conf_disables_valid_until("Acquire {\n  Check-Valid-Until \"no\";\n};\n"));
  EXPECT_FALSE(apt_conf_disables_valid_until("Acquire::Check-Valid-Until \"true\";\n"));
  EXPECT_FALSE(apt_conf_disables_valid_until("APT::Install-Recommends \"false\";\n"));
  EXPECT_FALSE(apt_conf_disables_valid_until(
      "Acquire::Check-Valid-Until \"false\";\nAcquire::Check-Valid-Until \"true\";\n"));
}

}  // namespace
}  // namespace distill::debian
