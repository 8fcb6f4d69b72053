// Relationship field parser tests (relation.hpp).
#include <gtest/gtest.h>

#include "debian/relation.hpp"

namespace distill::debian {
namespace {

TEST(Relation, ParsesGroupsAlternativesAndVersions) {
  auto parsed = parse_relations(
      "libc6 (>= 2.36), libssl3 (>= 3.0.0) | libssl1.1, debconf (>= 0.5) | debconf-2.0,\n"
      " python3:any (<< 3.12), foo:amd64 (=1.0-1), bar(>>2)");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 6u);
  const auto& g = *parsed;
  EXPECT_EQ(g[0].alternatives[0].name, "libc6");
  EXPECT_EQ(g[0].alternatives[0].op, VersionOp::GreaterEqual);
  EXPECT_EQ(g[0].alternatives[0].version, "2.36");
  ASSERT_EQ(g[1].alternatives.size(), 2u);
  EXPECT_EQ(g[1].alternatives[1].name, "libssl1.1");
  EXPECT_EQ(g[1].alternatives[1].op, VersionOp::Any);
  EXPECT_EQ(g[3].alternatives[0].arch_qualifier, "any");
  EXPECT_EQ(g[3].alternatives[0].op, VersionOp::Less);
  EXPECT_EQ(g[4].alternatives[0].arch_qualifier, "amd64");
  EXPECT_EQ(g[4].alternatives[0].op, VersionOp::Equal);
  EXPECT_EQ(g[4].alternatives[0].version, "1.0-1");
  EXPECT_EQ(g[5].alternatives[0].op, VersionOp::Greater);
  EXPECT_EQ(g[1].to_string(), "libssl3 (>= 3.0.0) | libssl1.1");
  EXPECT_EQ(g[3].to_string(), "python3:any (<< 3.12)");
}

TEST(Relation, ObsoleteOperatorsMeanOrEqual) {
  auto parsed = parse_relations("a (< 1), b (> 2)");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[0].alternatives[0].op, VersionOp::LessEqual);
  EXPECT_EQ((*parsed)[1].alternatives[0].op, VersionOp::GreaterEqual);
}

TEST(Relation, ArchRestrictionsAndProfilesAreDropped) {
  auto parsed =
      parse_relations("a [amd64 !i386], b (>= 1) [linux-any] <!nocheck> <cross>, c <stage1>");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[1].alternatives[0].to_string(), "b (>= 1)");
  EXPECT_EQ((*parsed)[2].alternatives[0].name, "c");
}

TEST(Relation, EmptyClausesSkippedErrorsReported) {
  auto empty = parse_relations("  ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto trailing = parse_relations("a, b,");
  ASSERT_TRUE(trailing.ok());
  EXPECT_EQ(trailing->size(), 2u);

  for (const char* bad :
       {"a | ", "a (>= )", "a (~ 1)", "a (>= 1", "a b", "(>= 1)", "a:", "a [amd64"}) {
    auto r = parse_relations(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  }
}

TEST(Relation, VersionSatisfies) {
  EXPECT_TRUE(version_satisfies("1.0", VersionOp::Any, ""));
  EXPECT_TRUE(version_satisfies("2.36-9", VersionOp::GreaterEqual, "2.36"));
  EXPECT_FALSE(version_satisfies("2.35", VersionOp::GreaterEqual, "2.36"));
  EXPECT_TRUE(version_satisfies("1.0", VersionOp::Less, "1.1"));
  EXPECT_FALSE(version_satisfies("1.1", VersionOp::Less, "1.1"));
  EXPECT_TRUE(version_satisfies("1.1", VersionOp::LessEqual, "1.1"));
  EXPECT_TRUE(version_satisfies("0:1.1", VersionOp::Equal, "1.1"));
  EXPECT_TRUE(version_satisfies("1.2", VersionOp::Greater, "1.1"));
  EXPECT_FALSE(version_satisfies("1.1~rc1", VersionOp::GreaterEqual, "1.1"));
}

// Issue 11, item 5: names are path components later (status.d/<name>).
TEST(Relation, PackageNamesFollowPolicy) {
  for (const char* good :
       {"hello", "libc6", "g++", "libstdc++6", "python3.11", "0ad", "a-b", "a"}) {
    EXPECT_TRUE(is_valid_package_name(good)) << good;
  }
  for (const char* bad : {"..", ".", "", "-a", "+a", "a/b", "Hello", "a_b", "a b", "a\n"}) {
    EXPECT_FALSE(is_valid_package_name(bad)) << bad;
  }
  auto parsed = parse_relations("libc6, ..");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("invalid package name '..'"), std::string::npos)
      << parsed.error().message;
}

TEST(Relation, PackageRequestsAsSpecsWriteThem) {
  auto plain = parse_package_request("libc6");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->name, "libc6");
  EXPECT_EQ(plain->op, VersionOp::Any);
  auto pinned = parse_package_request("libssl3=3.0.15-1~deb12u1");
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->name, "libssl3");
  EXPECT_EQ(pinned->op, VersionOp::Equal);
  EXPECT_EQ(pinned->version, "3.0.15-1~deb12u1");
  auto both = parse_package_request("libc6:arm64=1:2.36-9");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->name, "libc6");
  EXPECT_EQ(both->arch_qualifier, "arm64");
  EXPECT_EQ(both->version, "1:2.36-9");
  for (const char* bad : {"", "libc6>=9", "=1.0", "libc6:", "LIBC6", "-libc6", "a|b",
                          "libc6=", "libc6 (>= 2)", "libc6:Arm64", "x=1.0 ", "../x"}) {
    auto refused = parse_package_request(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().message,
              "'" + std::string(bad) + "' is not a package name (NAME, NAME=VERSION or NAME:ARCH)");
  }
}

}  // namespace
}  // namespace distill::debian
