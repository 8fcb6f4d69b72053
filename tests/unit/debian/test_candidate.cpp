// Update candidates: the newest version across suites, and the kind of suite.
#include <gtest/gtest.h>

#include "debian/candidate.hpp"

using namespace distill::debian;

namespace {

PackageRecord record(const std::string& name, const std::string& version,
                     const std::string& suite) {
  PackageRecord r;
  r.name = name;
  r.version = version;
  r.arch = "amd64";
  r.suite = suite;
  r.filename = "pool/" + name + "_" + version + ".deb";
  return r;
}

}  // namespace

TEST(Candidate, SuiteKinds) {
  EXPECT_EQ(suite_kind("bookworm-security"), SuiteKind::Security);
  EXPECT_EQ(suite_kind("bullseye/updates"), SuiteKind::Security);  // the old spelling
  EXPECT_EQ(suite_kind("bookworm-updates"), SuiteKind::Updates);
  EXPECT_EQ(suite_kind("stable-updates"), SuiteKind::Updates);
  EXPECT_EQ(suite_kind("bookworm"), SuiteKind::PointRelease);
  EXPECT_EQ(suite_kind("stable"), SuiteKind::PointRelease);
  EXPECT_EQ(suite_kind("bookworm-proposed-updates"), SuiteKind::Other);
  EXPECT_EQ(suite_kind(""), SuiteKind::Other);
  EXPECT_EQ(to_string(SuiteKind::Security), "security");
  EXPECT_EQ(to_string(SuiteKind::PointRelease), "point-release");
  EXPECT_FALSE(offers_updates("bookworm-backports"));
  EXPECT_FALSE(offers_updates("experimental"));
  EXPECT_TRUE(offers_updates("bookworm-security"));
}

TEST(Candidate, NewestAcrossSuites) {
  PackageIndex index;
  index.add({record("openssl", "3.0.11-1~deb12u1", "bookworm"),
             record("openssl", "3.0.11-1~deb12u2", "bookworm-security"),
             record("openssl", "3.0.13-1~bpo12+1", "bookworm-backports"),
             record("tzdata", "2024a-0+deb12u1", "bookworm"),
             record("tzdata", "2024b-0+deb12u1", "bookworm-updates"),
             record("libc6", "2.36-9+deb12u4", "bookworm"),
             record("libc6", "2.36-9+deb12u10", "bookworm")});
  const auto* openssl = newest_candidate(index, "openssl");
  ASSERT_NE(openssl, nullptr);
  EXPECT_EQ(openssl->version, "3.0.11-1~deb12u2");  // backports are no candidate
  EXPECT_EQ(openssl->suite, "bookworm-security");
  EXPECT_EQ(newest_candidate(index, "tzdata")->suite, "bookworm-updates");
  EXPECT_EQ(newest_candidate(index, "libc6")->version, "2.36-9+deb12u10");  // dpkg order
  EXPECT_EQ(newest_candidate(index, "absent"), nullptr);
  EXPECT_TRUE(is_newer("2.36-9+deb12u10", "2.36-9+deb12u4"));
  EXPECT_FALSE(is_newer("1:1.0", "1:1.0"));
  EXPECT_FALSE(is_newer("1.0~rc1", "1.0"));
}

TEST(Candidate, TieGoesToTheMostTellingSuite) {
  // A point release folds a security fix in: the same version in both suites.
  PackageIndex index;
  index.add({record("curl", "7.88.1-10+deb12u5", "bookworm"),
             record("curl", "7.88.1-10+deb12u5", "bookworm-security"),
             record("curl", "7.88.1-10+deb12u5", "bookworm-updates")});
  EXPECT_EQ(newest_candidate(index, "curl")->suite, "bookworm-security");
  PackageIndex only_backports;
  only_backports.add({record("x", "2.0~bpo12+1", "bookworm-backports")});
  EXPECT_EQ(newest_candidate(only_backports, "x"), nullptr);
}
