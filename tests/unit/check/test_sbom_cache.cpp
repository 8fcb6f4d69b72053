// SbomCache: keys cover the manifest, the format and every option; a kept
// document comes back whole, and one that no longer hashes to its recorded
// digest is a miss and is removed.
#include <gtest/gtest.h>

#include <set>

#include "check/sbom_cache.hpp"
#include "program_cache_test.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

crypto::Digest digest_of(std::string_view text) {
  crypto::Sha256 hash;
  hash.update(text);
  return hash.finish();
}

using SbomCacheTest = testing::ProgramCacheTest;

TEST_F(SbomCacheTest, EveryInputChangesTheKey) {
  SbomCache cache(m_dir->path());
  SbomOptions options;
  options.name = "app:latest";
  options.deb_sha256 = {{"libc6:amd64", "aa"}};
  const crypto::Digest manifest = digest_of("manifest");
  std::set<std::string> keys;
  keys.insert(cache.key(manifest, SbomFormat::SpdxJson, options));
  EXPECT_EQ(cache.key(manifest, SbomFormat::SpdxJson, options), *keys.begin());
  keys.insert(cache.key(digest_of("other"), SbomFormat::SpdxJson, options));
  keys.insert(cache.key(manifest, SbomFormat::CycloneDxJson, options));
  SbomOptions renamed = options;
  renamed.name = "app:v2";
  keys.insert(cache.key(manifest, SbomFormat::SpdxJson, renamed));
  SbomOptions rehashed = options;
  rehashed.deb_sha256["libc6:amd64"] = "bb";
  keys.insert(cache.key(manifest, SbomFormat::SpdxJson, rehashed));
  SbomOptions more = options;
  more.deb_sha256["zlib1g:amd64"] = "cc";
  keys.insert(cache.key(manifest, SbomFormat::SpdxJson, more));
  SbomOptions newer = options;
  newer.tool_version = "9.9.9";
  keys.insert(cache.key(manifest, SbomFormat::SpdxJson, newer));
  EXPECT_EQ(keys.size(), 7U);
}

TEST_F(SbomCacheTest, StoredDocumentsComeBackWholeAndDamagedOnesAreDropped) {
  SbomCache cache(m_dir->path());
  const std::string key = cache.key(digest_of("m"), SbomFormat::SpdxJson, {});
  ASSERT_FALSE(key.empty());
  EXPECT_FALSE(cache.lookup(key).has_value());
  const std::string document = "{\"spdxVersion\": \"SPDX-2.3\"}\n";
  ASSERT_TRUE(cache.store(key, document).ok());
  EXPECT_EQ(cache.lookup(key), document);

  const auto file = m_dir->path() / "sboms" / (key + ".json");
  ASSERT_TRUE(std::filesystem::exists(file));
  auto text = util::read_file(file);
  ASSERT_TRUE(text.ok());
  (*text)[text->size() - 3] ^= 1;
  ASSERT_TRUE(util::write_file_atomic(file, *text).ok());
  EXPECT_FALSE(cache.lookup(key).has_value());
  EXPECT_FALSE(std::filesystem::exists(file));

  // No digest line at all.
  ASSERT_TRUE(util::write_file_atomic(file, "no digest line").ok());
  EXPECT_FALSE(cache.lookup(key).has_value());
  EXPECT_FALSE(cache.lookup("").has_value());
  EXPECT_TRUE(cache.store("", document).ok());  // an empty key keeps nothing
}

}  // namespace
}  // namespace distill::check
