// ReleaseSnapshot: the fingerprint a resolution is cached under, from copies of
// the InRelease files and the record of each copy's digest and Date.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "../debian/fake_http.hpp"
#include "crypto/sha256.hpp"
#include "image/release_snapshot.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_url = "http://127.0.0.1:9/debian/dists/bookworm/InRelease";
constexpr const char* k_body =
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: Debian\n"
    "Suite: stable\nCodename: bookworm\nDate: Sat, 10 Jun 2023 08:55:46 UTC\n"
    "-----BEGIN PGP SIGNATURE-----\n\nbm90IGEgc2lnbmF0dXJl\n-----END PGP SIGNATURE-----\n";

class ReleaseSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto work = util::TempDir::create("distill-snapshot-");
    ASSERT_TRUE(work.ok());
    m_work = std::make_unique<util::TempDir>(std::move(*work));
    auto cache = net::ContentCache::open(m_work->path() / "cache");
    ASSERT_TRUE(cache.ok());
    m_cache = std::make_unique<net::ContentCache>(std::move(*cache));
    m_env = std::make_unique<BuildEnv>(BuildEnv{m_http, *m_cache, m_clock, m_progress, m_pool});
    m_http.m_files[k_url] = k_body;
    m_source.url = "http://127.0.0.1:9/debian";
    m_source.suites = {"bookworm"};
    m_source.components = {"main"};
  }

  // A new process's snapshot: nothing memoized.
  [[nodiscard]] ReleaseSnapshot snapshot() const { return ReleaseSnapshot(*m_env, 3600, false); }

  [[nodiscard]] fs::path copy() const {
    return m_cache->dir() / "releases" / (crypto::sha256(k_url).hex() + ".InRelease");
  }

  std::unique_ptr<util::TempDir> m_work;
  std::unique_ptr<net::ContentCache> m_cache;
  debian::fakes::FakeHttp m_http;
  util::FixedClock m_clock{1790000000};
  util::Progress m_progress{util::Progress::Mode::None};
  util::WorkerPool m_pool{1};
  std::unique_ptr<BuildEnv> m_env;
  debian::AptSource m_source;
};

TEST_F(ReleaseSnapshotTest, AFetchedBodyIsKeptWithItsRecord) {
  auto first = snapshot();
  auto fingerprint = first.fingerprint({m_source});
  ASSERT_TRUE(fingerprint.ok()) << fingerprint.error().message;
  EXPECT_EQ(m_http.count("InRelease"), 1U);
  EXPECT_EQ(first.dates().at(k_url), "Sat, 10 Jun 2023 08:55:46 UTC");
  auto bodies = first.bodies();
  ASSERT_TRUE(bodies.ok());
  EXPECT_EQ((*bodies)->at(k_url), k_body);

  auto record = util::read_file(copy().string() + ".record");
  ASSERT_TRUE(record.ok());
  EXPECT_NE(record->find(crypto::sha256(k_body).hex()), std::string::npos);
  EXPECT_NE(record->find("Sat, 10 Jun 2023 08:55:46 UTC"), std::string::npos);
}

TEST_F(ReleaseSnapshotTest, ARecordedCopyIsNotReadUntilItsBodyIsNeeded) {
  auto expected = snapshot().fingerprint({m_source});
  ASSERT_TRUE(expected.ok());

  auto second = snapshot();
  auto fingerprint = second.fingerprint({m_source});
  ASSERT_TRUE(fingerprint.ok());
  EXPECT_EQ(*fingerprint, *expected);
  EXPECT_EQ(second.dates().at(k_url), "Sat, 10 Jun 2023 08:55:46 UTC");
  EXPECT_EQ(m_http.count("InRelease"), 1U);  // the copy stood for the mirror's

  // Had fingerprint() read the copy, its body would be at hand now.
  fs::rename(copy(), copy().string() + ".away");
  auto missing = second.bodies();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(copy().string()), std::string::npos);
  fs::rename(copy().string() + ".away", copy());
  auto bodies = second.bodies();
  ASSERT_TRUE(bodies.ok()) << bodies.error().message;
  EXPECT_EQ((*bodies)->at(k_url), k_body);
}

TEST_F(ReleaseSnapshotTest, ACopyThatChangedIsReadAgain) {
  auto first = snapshot();
  auto old_fingerprint = first.fingerprint({m_source});
  ASSERT_TRUE(old_fingerprint.ok());

  // Another Release of the same size written over the copy: a new inode and
  // change time, so the record no longer stands for it.
  std::string other = k_body;
  other.replace(other.find("08:55:46"), 8, "09:55:46");
  ASSERT_TRUE(util::write_file_atomic(copy(), other).ok());
  struct timespec times[2] = {{1790000000, 0}, {1790000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, copy().c_str(), times, 0), 0);

  auto second = snapshot();
  auto fingerprint = second.fingerprint({m_source});
  ASSERT_TRUE(fingerprint.ok());
  EXPECT_NE(*fingerprint, *old_fingerprint);
  EXPECT_EQ(second.dates().at(k_url), "Sat, 10 Jun 2023 09:55:46 UTC");
  // And the record now stands for the new bytes.
  auto record = util::read_file(copy().string() + ".record");
  ASSERT_TRUE(record.ok());
  EXPECT_NE(record->find(crypto::sha256(other).hex()), std::string::npos);
}

TEST_F(ReleaseSnapshotTest, ACopyCutShortIsFetchedAgain) {
  auto first = snapshot();
  auto expected = first.fingerprint({m_source});
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(m_http.count("InRelease"), 1U);
  // Cut to its first 100 bytes (a full disk, a crash): no longer a whole
  // clear-signed file, so not taken for the mirror's however young it is.
  ASSERT_TRUE(util::write_file_atomic(copy(), std::string(k_body).substr(0, 100)).ok());
  struct timespec times[2] = {{1790000000, 0}, {1790000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, copy().c_str(), times, 0), 0);
  auto second = snapshot();
  auto fingerprint = second.fingerprint({m_source});
  ASSERT_TRUE(fingerprint.ok()) << fingerprint.error().message;
  EXPECT_EQ(*fingerprint, *expected);
  EXPECT_EQ(m_http.count("InRelease"), 2U);
  auto kept = util::read_file(copy());
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, k_body);
}

TEST_F(ReleaseSnapshotTest, ABodyThatChangedAfterTheFingerprintIsAnError) {
  ASSERT_TRUE(snapshot().fingerprint({m_source}).ok());
  auto second = snapshot();
  ASSERT_TRUE(second.fingerprint({m_source}).ok());  // from the record
  // Refreshed by another process meanwhile: what was keyed on the old bytes
  // must not be made from the new ones.
  std::string other = k_body;
  other.replace(other.find("Debian"), 6, "Debiax");
  ASSERT_TRUE(util::write_file_atomic(copy(), other).ok());
  auto bodies = second.bodies();
  ASSERT_FALSE(bodies.ok());
  EXPECT_EQ(bodies.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(bodies.error().message.find(copy().string()), std::string::npos);
  EXPECT_NE(bodies.error().message.find("changed"), std::string::npos);
}

TEST_F(ReleaseSnapshotTest, AnUnreadableRecordOnlyCostsAReread) {
  ASSERT_TRUE(snapshot().fingerprint({m_source}).ok());
  ASSERT_TRUE(util::write_file_atomic(copy().string() + ".record", "garbage\n").ok());
  auto second = snapshot();
  auto fingerprint = second.fingerprint({m_source});
  ASSERT_TRUE(fingerprint.ok());
  EXPECT_EQ(second.dates().at(k_url), "Sat, 10 Jun 2023 08:55:46 UTC");
  EXPECT_EQ(m_http.count("InRelease"), 1U);
  auto record = util::read_file(copy().string() + ".record");
  ASSERT_TRUE(record.ok());
  EXPECT_NE(record->find(crypto::sha256(k_body).hex()), std::string::npos);
}

}  // namespace
}  // namespace distill::image
