// Lock file JSON tests (lock_file.hpp).
#include <gtest/gtest.h>

#include "debian/lock_file.hpp"

namespace distill::debian {
namespace {

LockFile sample() {
  LockFile lock;
  lock.spec_digest = "sha256:abc";
  AptSource source;
  source.url = "http://deb.invalid/debian";
  source.suites = {"bookworm", "bookworm-updates"};
  source.components = {"main"};
  lock.sources.push_back(source);
  auto digest = crypto::Digest::from_hex(std::string(64, 'b'));
  EXPECT_TRUE(digest.ok());
  lock.packages["amd64"] = {
      LockedPackage{"zlib1g", "1:1.2.13", "amd64", "pool/z.deb", source.url, *digest, 10},
      LockedPackage{"libc6", "2.36-9", "amd64", "pool/l.deb", source.url, *digest, 20},
  };
  lock.packages["arm64"] = {
      LockedPackage{"libc6", "2.36-9", "arm64", "pool/a.deb", source.url, *digest, 30}};
  return lock;
}

TEST(LockFile, RoundTripIsStableAndSorted) {
  LockFile lock = sample();
  std::string json = to_json(lock);
  EXPECT_LT(json.find("\"libc6\""), json.find("\"zlib1g\""));
  EXPECT_EQ(json.back(), '\n');
  auto parsed = parse_lock(json, "distill.lock");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->version, 1);
  EXPECT_EQ(parsed->spec_digest, "sha256:abc");
  ASSERT_EQ(parsed->sources.size(), 1u);
  EXPECT_EQ(parsed->sources[0].url, "http://deb.invalid/debian");
  EXPECT_EQ(parsed->sources[0].suites, lock.sources[0].suites);
  EXPECT_EQ(parsed->sources[0].keyring, k_default_keyring);
  ASSERT_EQ(parsed->packages.size(), 2u);
  ASSERT_EQ(parsed->packages["amd64"].size(), 2u);
  EXPECT_EQ(parsed->packages["amd64"][0], lock.packages["amd64"][1]);
  EXPECT_EQ(parsed->packages["amd64"][1], lock.packages["amd64"][0]);
  EXPECT_EQ(to_json(*parsed), json);
}

TEST(LockFile, ArchivesRoundTripAndAreAbsentWhenNone) {
  LockFile lock = sample();
  EXPECT_EQ(to_json(lock).find("\"archives\""), std::string::npos);  // older locks keep their bytes
  auto digest = crypto::Digest::from_hex(std::string(64, 'c'));
  ASSERT_TRUE(digest.ok());
  lock.archives["amd64"] = {
      LockedArchive{"node", "22.11.0", "https://x.invalid/node.tar.xz", *digest},
      LockedArchive{"", "", "https://x.invalid/tool.tgz", *digest}};
  std::string json = to_json(lock);
  EXPECT_NE(json.find("\"url\": \"https://x.invalid/node.tar.xz\""), std::string::npos) << json;
  auto parsed = parse_lock(json, "distill.lock");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->archives, lock.archives);
  EXPECT_EQ(to_json(*parsed), json);
  auto bad = parse_lock(
      "{\"version\": 1, \"archives\": {\"amd64\": [{\"url\": \"u\", "
      "\"sha256\": \"zz\"}]}}",
      "my.lock");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "my.lock: archive 'u': invalid sha256");
}

TEST(LockFile, ARegistryBaseRoundTripsAndIsAbsentWhenNone) {
  LockFile lock = sample();
  EXPECT_EQ(to_json(lock).find("\"base_image\""), std::string::npos);
  lock.base_image = "docker://127.0.0.1:5000/base/static:1";
  lock.base_image_digest = "sha256:" + std::string(64, 'd');
  std::string json = to_json(lock);
  auto parsed = parse_lock(json, "distill.lock");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->base_image, lock.base_image);
  EXPECT_EQ(parsed->base_image_digest, lock.base_image_digest);
  EXPECT_EQ(to_json(*parsed), json);
  auto bad = parse_lock(R"({"version": 1, "base_image": {"reference": "r", "digest": "latest"}})",
                        "my.lock");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "my.lock: base_image: invalid digest 'latest'");
}

TEST(LockFile, LockPackageCopiesTheRecord) {
  PackageRecord r;
  r.name = "a";
  r.version = "1";
  r.arch = "all";
  r.filename = "pool/a.deb";
  r.repo_url = "http://x";
  r.size = 5;
  LockedPackage p = lock_package(r);
  EXPECT_EQ(p.name, "a");
  EXPECT_EQ(p.arch, "all");
  EXPECT_EQ(p.size, 5u);
}

TEST(LockFile, ErrorsNameTheFile) {
  for (const char* bad :
       {"", "[]", "{", "{\"version\": 1, \"packages\": {\"amd64\": [{\"name\": \"a\"}]}}",
        "{\"version\": \"1\"}",
        "{\"version\": 1, \"packages\": {\"amd64\": [{\"name\": \"a\", \"version\": \"1\", "
        "\"arch\": \"amd64\", \"filename\": \"f\", \"repo_url\": \"u\", \"size\": 1, "
        "\"sha256\": \"zz\"}]}}"}) {
    auto r = parse_lock(bad, "my.lock");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message.rfind("my.lock: ", 0), 0u) << r.error().message;
  }
  auto future = parse_lock("{\"version\": 2}", "my.lock");
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().kind, ErrorKind::Unsupported);
}

}  // namespace
}  // namespace distill::debian
