// `distill outdated` against an in-memory signed repository with a main and a
// security suite: the candidate, its suite, the changelog entries between the
// two versions (urgency, CVEs), the caches of a warm run, and the refusal of
// a Release signed by another key.
#include <gtest/gtest.h>

#include <tuple>

#include "../image/fake_repository.hpp"
#include "archive/compressor.hpp"
#include "check/outdated.hpp"
#include "crypto/sha256.hpp"
#include "debian/lock_file.hpp"
#include "image/env.hpp"
#include "util/clock.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

using namespace distill;
using image::testing::FakePackage;
using image::testing::FakeRepository;
using image::testing::k_repo_url;
using image::testing::MapHttp;

namespace {

std::string gzip(const std::string& text) {
  std::string out;
  archive::StringSink sink(out);
  auto compressor = archive::make_compressor(archive::Compression::Gzip, sink, 1);
  EXPECT_TRUE(compressor->write(text).ok());
  EXPECT_TRUE(compressor->finish().ok());
  return out;
}

std::string entry(const std::string& version, const std::string& dist, const std::string& urgency,
                  const std::string& change) {
  return "hello (" + version + ") " + dist + "; urgency=" + urgency + "\n\n  * " + change +
         "\n\n -- Maintainer <m@test.invalid>  Sat, 01 Aug 2026 00:00:00 +0000\n\n";
}

FakePackage hello(const std::string& version, const std::string& changelog) {
  FakePackage p{"hello", version, "amd64", "", {{"usr/bin/hello", "hello " + version, 0755}}};
  p.files.push_back({"usr/share/doc/hello/changelog.Debian.gz", gzip(changelog)});
  return p;
}

const std::string k_old_changes =
    entry("1.0-1", "bookworm", "medium", "Initial release, CVE-2025-0001 was never there.");

class Outdated : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!FakeRepository::available()) {
      GTEST_SKIP() << "gpg and gpgv are needed to sign the test repository";
    }
    // libdoc's doc directory is a link to hello's in the same package.
    FakePackage libdoc{"libdoc", "2.0", "amd64", "", {}};
    libdoc.files = {{"usr/share/doc/libdoc", "", 0777, "hello"},
                    {"usr/share/doc/hello/changelog.Debian.gz",
                     gzip(entry("2.0", "bookworm", "low", "Linked doc, CVE-2026-22222."))}};
    m_repo.publish(m_http, {hello("1.0-1", k_old_changes),
                            {"same", "1.0", "all", "", {{"usr/share/same", "s"}}},
                            {"nodoc", "1.0", "amd64", "", {{"usr/bin/nodoc", "n"}}},
                            {"libdoc", "1.0", "amd64", "", {}},
                            {"native", "1.0", "all", "", {}}});
    // A native package (no Debian revision) ships its changelog as changelog.gz.
    FakePackage native{"native", "1.1", "all", "", {}};
    native.files = {{"usr/share/doc/native/changelog.gz",
                     gzip("native (1.1) bookworm-security; urgency=emergency\n\n"
                          "  * CVE-2026-33333\n\n -- M <m@test.invalid>  Sat, 01 Aug 2026 "
                          "00:00:00 +0000\n")}};
    m_repo.publish(m_http,
                   {hello("1.0-3", entry("1.0-3", "bookworm-security", "low", "Cleanup.") +
                                       entry("1.0-2", "bookworm-security", "high",
                                             "Fix CVE-2026-12345 and CVE-2026-54321.") +
                                       k_old_changes),
                    {"nodoc", "1.1", "amd64", "", {{"usr/bin/nodoc", "n2"}}},
                    libdoc,
                    native},
                   "bookworm-security", "bookworm-security");
    auto work = util::TempDir::create("distill-outdated-");
    ASSERT_TRUE(work.ok());
    m_work = std::make_unique<util::TempDir>(std::move(*work));
    auto cache = net::ContentCache::open(m_work->path() / "cache");
    ASSERT_TRUE(cache.ok());
    m_cache = std::make_unique<net::ContentCache>(std::move(*cache));
    m_env = std::make_unique<image::BuildEnv>(
        image::BuildEnv{m_http, *m_cache, m_clock, m_progress, m_pool});
  }

  std::filesystem::path write_lock(const std::vector<std::string>& suites) {
    debian::LockFile lock;
    debian::AptSource source;
    source.url = k_repo_url;
    source.suites = suites;
    source.components = {"main"};
    source.keyring = m_repo.keyring().string();
    lock.sources.push_back(source);
    for (const auto& [name, version, arch] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"hello", "1.0-1", "amd64"},
             {"same", "1.0", "all"},
             {"nodoc", "1.0", "amd64"},
             {"libdoc", "1.0", "amd64"},
             {"native", "1.0", "all"},
             {"ghost", "0.1", "amd64"}}) {
      debian::LockedPackage p;
      p.name = name;
      p.version = version;
      p.arch = arch;
      p.sha256 = crypto::sha256(name);  // not compared: only names and versions are
      lock.packages["amd64"].push_back(p);
    }
    auto path = m_work->path() / "app.lock";
    EXPECT_TRUE(util::write_file_atomic(path, debian::to_json(lock)).ok());
    return path;
  }

  check::OutdatedRequest request(const std::filesystem::path& subject) {
    check::OutdatedRequest r;
    r.subject = subject.string();
    return r;
  }

  MapHttp m_http;
  FakeRepository m_repo;
  std::unique_ptr<util::TempDir> m_work;
  std::unique_ptr<net::ContentCache> m_cache;
  util::FixedClock m_clock{1790000000};
  util::Progress m_progress{util::Progress::Mode::None};
  util::WorkerPool m_pool{2};
  std::unique_ptr<image::BuildEnv> m_env;
};

}  // namespace

TEST_F(Outdated, ListsCandidatesWithTheirChangelog) {
  auto lock = write_lock({"bookworm", "bookworm-security"});
  auto report = check::find_outdated(request(lock), *m_env);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->subject_kind, "lock");
  EXPECT_EQ(report->checked, 6U);
  EXPECT_EQ(report->archs, std::vector<std::string>{"amd64"});
  EXPECT_EQ(report->not_in_sources, std::vector<std::string>{"ghost (amd64)"});
  ASSERT_EQ(report->outdated.size(), 4U);

  const auto& h = report->outdated[0];
  EXPECT_EQ(h.name, "hello");
  EXPECT_EQ(h.installed, "1.0-1");
  EXPECT_EQ(h.candidate, "1.0-3");
  EXPECT_EQ(h.suite, "bookworm-security");
  EXPECT_EQ(h.kind, debian::SuiteKind::Security);
  EXPECT_EQ(h.urgency, "high");  // the highest of 1.0-3 (low) and 1.0-2 (high)
  EXPECT_EQ(h.cves, (std::vector<std::string>{"CVE-2026-12345", "CVE-2026-54321"}));
  ASSERT_EQ(h.changes.size(), 2U);  // 1.0-1 is installed already
  EXPECT_EQ(h.changes[0].version, "1.0-3");
  EXPECT_EQ(h.changes[1].version, "1.0-2");
  EXPECT_EQ(h.changes[1].distributions, "bookworm-security");
  EXPECT_TRUE(h.changelog_note.empty());

  const auto& l = report->outdated[1];  // through the doc directory's symlink
  EXPECT_EQ(l.name, "libdoc");
  EXPECT_EQ(l.urgency, "low");
  EXPECT_EQ(l.cves, std::vector<std::string>{"CVE-2026-22222"});

  const auto& native = report->outdated[2];
  EXPECT_EQ(native.name, "native");
  EXPECT_EQ(native.urgency, "emergency");
  EXPECT_EQ(native.cves, std::vector<std::string>{"CVE-2026-33333"});

  const auto& n = report->outdated[3];
  EXPECT_EQ(n.name, "nodoc");
  EXPECT_EQ(n.candidate, "1.1");
  EXPECT_TRUE(n.changes.empty());
  EXPECT_EQ(n.changelog_note, "no changelog in the package");

  auto json = check::to_json(*report);
  EXPECT_EQ(json["outdated"][0]["kind"], "security");
  EXPECT_EQ(json["outdated"][0]["cves"][0], "CVE-2026-12345");
  EXPECT_EQ(json["outdated"][3]["changelog_note"], "no changelog in the package");
  EXPECT_EQ(json["sources_from"], "the lock file");
}

TEST_F(Outdated, AWarmRunAsksNothing) {
  auto lock = write_lock({"bookworm", "bookworm-security"});
  auto first = check::find_outdated(request(lock), *m_env);
  ASSERT_TRUE(first.ok()) << first.error().message;
  size_t before = m_http.count("");
  auto second = check::find_outdated(request(lock), *m_env);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(m_http.count(""), before);  // Release copies, candidates, changelogs: cached
  EXPECT_EQ(check::to_json(*second), check::to_json(*first));
  // --refresh asks for the Release files again, and for nothing else.
  auto refreshed = request(lock);
  refreshed.release_max_age = 0;
  auto third = check::find_outdated(refreshed, *m_env);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(m_http.count("InRelease"), 4U);
  EXPECT_EQ(m_http.count(".deb"), 4U);
}

TEST_F(Outdated, WithoutTheSecuritySuiteNothingIsNewer) {
  auto lock = write_lock({"bookworm"});
  auto report = check::find_outdated(request(lock), *m_env);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->outdated.empty());  // hello 1.0-1 is the newest in bookworm
}

TEST_F(Outdated, RefusesAReleaseSignedByAnotherKey) {
  auto lock = write_lock({"bookworm", "bookworm-security"});
  FakeRepository stranger;
  MapHttp other;
  stranger.publish(other, {hello("1.0-9", k_old_changes)}, "bookworm-security",
                   "bookworm-security");
  std::string url = std::string(k_repo_url) + "/dists/bookworm-security/";
  for (const auto& [path, body] : other.m_files) {
    if (path.rfind(url, 0) == 0 || path.find("1.0-9") != std::string::npos) {
      m_http.m_files[path] = body;
    }
  }
  auto report = check::find_outdated(request(lock), *m_env);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("bookworm-security/InRelease"), std::string::npos)
      << report.error().message;
}

TEST_F(Outdated, ASpecNeedsItsLock) {
  auto spec = m_work->path() / "app.yaml";
  ASSERT_TRUE(util::write_file_atomic(spec, "name: app\npackages: [hello]\n").ok());
  auto report = check::find_outdated(request(spec), *m_env);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message.rfind("usage: ", 0), 0U) << report.error().message;
  EXPECT_NE(report.error().message.find("--lock"), std::string::npos);
  auto missing = check::find_outdated(request(m_work->path() / "nothing.yaml"), *m_env);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("not an image reference"), std::string::npos)
      << missing.error().message;
}

TEST_F(Outdated, AReleaseGoesWithASpecAndReachesItsPlan) {
  auto lock = write_lock({"bookworm", "bookworm-security"});
  auto r = request(lock);
  r.release = "trixie";
  auto refused = check::find_outdated(r, *m_env);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("usage: --release goes with a spec", 0), 0U)
      << refused.error().message;

  // A spec that names bookworm, checked as trixie: the plan refuses the mix,
  // naming the spec, as build --release trixie does.
  auto spec = m_work->path() / "app.yaml";
  ASSERT_TRUE(
      util::write_file_atomic(spec, "name: app\nrelease: bookworm\npackages: [hello]\n").ok());
  auto s = request(spec);
  s.lock_file = lock;
  s.release = "trixie";
  auto mixed = check::find_outdated(s, *m_env);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("trixie"), std::string::npos) << mixed.error().message;
  EXPECT_NE(mixed.error().message.find("app.yaml"), std::string::npos) << mixed.error().message;
}
