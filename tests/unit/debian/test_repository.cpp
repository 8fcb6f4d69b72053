// Repository loading tests (repository.hpp): a signed apt repository generated
// with gpg in a temp dir and served by a fake HttpClient; a real ContentCache.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "debian/release_fetch.hpp"
#include "debian/release_history.hpp"
#include "debian/repository.hpp"
#include "fake_http.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::debian {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_url = "http://repo.invalid/debian";

using fakes::FakeHttp;

const char* const k_bookworm_packages =
    "Package: hello\nVersion: 1.0\nArchitecture: amd64\nDepends: libc6 (>= 2.36)\n"
    "Filename: pool/main/h/hello/hello_1.0_amd64.deb\nSize: 10\n"
    "SHA256: 1111111111111111111111111111111111111111111111111111111111111111\n\n"
    "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n"
    "Filename: pool/main/g/glibc/libc6_2.36-9_amd64.deb\nSize: 20\n"
    "SHA256: 2222222222222222222222222222222222222222222222222222222222222222\n";
const char* const k_bookworm_all =
    "Package: tzdata\nVersion: 2024a\nArchitecture: all\n"
    "Filename: pool/main/t/tzdata/tzdata_2024a_all.deb\nSize: 30\n"
    "SHA256: 3333333333333333333333333333333333333333333333333333333333333333\n";
const char* const k_updates_packages =
    "Package: hello\nVersion: 1.1\nArchitecture: amd64\nDepends: libc6 (>= 2.36)\n"
    "Filename: pool/main/h/hello/hello_1.1_amd64.deb\nSize: 11\n"
    "SHA256: 4444444444444444444444444444444444444444444444444444444444444444\n";

// bookworm: InRelease, Acquire-By-Hash, binary-all listed separately, gzip indexes.
// bookworm-updates: Release + Release.gpg only, plain index, arch-all folded in.
const char* const k_script = R"SH(
set -e
root="$1"
export GNUPGHOME="$root/home"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Repo <repo@test.invalid>' ed25519 sign never
gpg --batch --quiet --passphrase '' --quick-gen-key 'Other <other@test.invalid>' ed25519 sign never
gpg --batch --export repo@test.invalid > "$root/repo.gpg"
entries() {
  (cd "$1" && for f in $(find main -type f -name 'Packages*' | sort); do
     printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
   done)
}
d="$root/repo/dists/bookworm"
gzip -9nk "$d/main/binary-amd64/Packages" "$d/main/binary-all/Packages"
rm "$d/main/binary-amd64/Packages"
for dir in "$d/main/binary-amd64" "$d/main/binary-all"; do
  mkdir -p "$dir/by-hash/SHA256"
  h=$(sha256sum "$dir/Packages.gz" | cut -d' ' -f1)
  cp "$dir/Packages.gz" "$dir/by-hash/SHA256/$h"
done
{ printf 'Suite: stable\nCodename: bookworm\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n'
  printf 'Valid-Until: %s\n' "$VALID_UNTIL"
  printf 'Acquire-By-Hash: yes\nArchitectures: all amd64\nComponents: main\nSHA256:\n'
  entries "$d"; } > "$d/Release"
gpg --batch --quiet --local-user repo@test.invalid --clearsign -o "$d/InRelease" "$d/Release"
gpg --batch --quiet --local-user other@test.invalid --clearsign -o "$root/InRelease.other" "$d/Release"
# Validly signed, but a day older (a replay), and trixie's served as bookworm.
sed 's/^Date: .*/Date: Fri, 10 Jul 2026 10:16:37 UTC/' "$d/Release" > "$root/Release.older"
gpg --batch --quiet --local-user repo@test.invalid --clearsign -o "$root/InRelease.older" "$root/Release.older"
sed 's/^Suite: stable$/Suite: testing/; s/^Codename: bookworm$/Codename: trixie/' "$d/Release" > "$root/Release.trixie"
gpg --batch --quiet --local-user repo@test.invalid --clearsign -o "$root/InRelease.trixie" "$root/Release.trixie"
rm "$d/Release"
u="$root/repo/dists/bookworm-updates"
{ printf 'Suite: stable-updates\nCodename: bookworm-updates\nArchitectures: amd64\n'
  printf 'No-Support-for-Architecture-all: Packages\nComponents: main\nSHA256:\n'
  entries "$u"; } > "$u/Release"
gpg --batch --quiet --local-user repo@test.invalid --armor --detach-sign -o "$u/Release.gpg" "$u/Release"
gpgconf --kill gpg-agent || true
)SH";

class Repository : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (util::find_program("gpg").empty() || util::find_program("gpgv").empty() ||
        util::find_program("gzip").empty()) {
      return;
    }
    auto dir = util::TempDir::create("distill-repo-");
    ASSERT_TRUE(dir.ok());
    s_dir = std::make_unique<util::TempDir>(std::move(*dir));
    fs::path dists = s_dir->path() / "repo/dists";
    fs::create_directories(dists / "bookworm/main/binary-amd64");
    fs::create_directories(dists / "bookworm/main/binary-all");
    fs::create_directories(dists / "bookworm-updates/main/binary-amd64");
    ASSERT_TRUE(
        util::write_file_atomic(dists / "bookworm/main/binary-amd64/Packages", k_bookworm_packages)
            .ok());
    ASSERT_TRUE(
        util::write_file_atomic(dists / "bookworm/main/binary-all/Packages", k_bookworm_all).ok());
    ASSERT_TRUE(util::write_file_atomic(dists / "bookworm-updates/main/binary-amd64/Packages",
                                        k_updates_packages)
                    .ok());
    util::Command command;
    command.argv = {"bash", "-c",
                    std::string("VALID_UNTIL='Sat, 18 Jul 2026 10:16:37 UTC'\n") + k_script, "bash",
                    s_dir->path().string()};
    auto result = util::run_command(command);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->exit_code, 0) << result->stderr_data;
    s_ready = true;
  }
  static void TearDownTestSuite() { s_dir.reset(); }

  void SetUp() override {
    if (!s_ready) {
      GTEST_SKIP() << "gpg, gpgv or gzip not available";
    }
    fs::path repo = s_dir->path() / "repo";
    for (const auto& entry : fs::recursive_directory_iterator(repo)) {
      if (entry.is_regular_file()) {
        auto data = util::read_file(entry.path());
        ASSERT_TRUE(data.ok());
        m_http.m_files[std::string(k_url) + "/" + fs::relative(entry.path(), repo).string()] =
            *data;
      }
    }
    auto cache_dir = util::TempDir::create("distill-cache-");
    ASSERT_TRUE(cache_dir.ok());
    m_cache_dir = std::make_unique<util::TempDir>(std::move(*cache_dir));
    auto cache = net::ContentCache::open(m_cache_dir->path());
    ASSERT_TRUE(cache.ok()) << cache.error().message;
    m_cache = std::make_unique<net::ContentCache>(std::move(*cache));
    m_source.url = k_url;
    m_source.suites = {"bookworm", "bookworm-updates"};
    m_source.components = {"main"};
    m_source.keyring = (s_dir->path() / "repo.gpg").string();
    m_options.now = 1783800000;  // after Date (11 Jul 2026), before Valid-Until (18 Jul)
  }

  Result<LoadedIndex> load() {
    return load_repositories(m_http, *m_cache, {m_source}, "amd64", m_options);
  }

  size_t count_requests(std::string_view needle) {
    return static_cast<size_t>(std::count_if(
        m_http.m_requests.begin(), m_http.m_requests.end(),
        [&](const std::string& url) { return url.find(needle) != std::string::npos; }));
  }

  static inline std::unique_ptr<util::TempDir> s_dir;
  static inline bool s_ready = false;
  FakeHttp m_http;
  std::unique_ptr<util::TempDir> m_cache_dir;
  std::unique_ptr<net::ContentCache> m_cache;
  AptSource m_source;
  RepositoryOptions m_options;
};

TEST_F(Repository, LoadsSuitesIntoOneIndex) {
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const PackageIndex& index = loaded->index;
  EXPECT_EQ(index.size(), 4u);
  ASSERT_EQ(index.by_name("hello").size(), 2u);
  ASSERT_EQ(index.by_name("tzdata").size(), 1u);
  const PackageRecord* tz = index.by_name("tzdata")[0];
  EXPECT_EQ(tz->repo_url, k_url);
  EXPECT_EQ(tz->suite, "bookworm");
  EXPECT_EQ(tz->component, "main");
  for (const PackageRecord* hello : index.by_name("hello")) {
    EXPECT_EQ(hello->suite, hello->version == "1.1" ? "bookworm-updates" : "bookworm");
  }
  EXPECT_EQ(loaded->index_digests.size(), 3u);
  EXPECT_TRUE(std::is_sorted(loaded->index_digests.begin(), loaded->index_digests.end()));
  // By-hash paths for the suite that announces them, the plain path otherwise.
  EXPECT_EQ(count_requests("/dists/bookworm/main/binary-amd64/by-hash/SHA256/"), 1u);
  EXPECT_EQ(count_requests("/dists/bookworm/main/binary-amd64/Packages.gz"), 0u);
  EXPECT_EQ(count_requests("/dists/bookworm-updates/main/binary-amd64/Packages"), 1u);
  EXPECT_EQ(count_requests("/dists/bookworm-updates/Release.gpg"), 1u);
  EXPECT_EQ(count_requests("binary-all"), 1u);  // only where not folded into binary-amd64
}

TEST_F(Repository, WarmCacheFetchesOnlyReleaseFiles) {
  ASSERT_TRUE(load().ok());
  m_http.m_requests.clear();
  auto again = load();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(count_requests("Packages"), 0u);
  EXPECT_EQ(count_requests("by-hash"), 0u);
  EXPECT_EQ(again->index.size(), 4u);
}

// Packages files are decoded while they download; a transfer that starts over
// midway must not leave half a file in the index.
TEST_F(Repository, RetriedIndexTransferGivesTheSameIndex) {
  m_http.m_glitch = {"binary-amd64", "binary-all"};
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->index.size(), 4u);
  EXPECT_EQ(loaded->index.by_name("hello").size(), 2u);
  EXPECT_TRUE(loaded->index.status().ok());
}

TEST_F(Repository, ByHashMissingFallsBackToPlainPath) {
  for (auto it = m_http.m_files.begin(); it != m_http.m_files.end();) {
    it = it->first.find("by-hash") != std::string::npos ? m_http.m_files.erase(it) : std::next(it);
  }
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(count_requests("/dists/bookworm/main/binary-amd64/Packages.gz"), 1u);
}

TEST_F(Repository, TamperedInReleaseIsRejected) {
  std::string& inrelease = m_http.m_files[std::string(k_url) + "/dists/bookworm/InRelease"];
  inrelease.replace(inrelease.find("Codename: bookworm"), 18, "Codename: bookwarm");
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find(std::string(k_url) + "/dists/bookworm/InRelease"),
            std::string::npos)
      << loaded.error().message;
}

// The build fetched the InRelease a moment ago (to key its resolution cache):
// the loader takes those bytes instead of asking again, and verifies them.
TEST_F(Repository, InReleaseFetchedByTheBuildIsNotFetchedAgain) {
  const std::string url = std::string(k_url) + "/dists/bookworm/InRelease";
  std::map<std::string, std::string> fetched = {{url, m_http.m_files[url]}};
  m_options.fetched_inrelease = &fetched;
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(count_requests("/dists/bookworm/InRelease"), 0u);
  EXPECT_EQ(count_requests("/dists/bookworm-updates/Release"), 2u);  // not given: fetched
  EXPECT_EQ(loaded->index.size(), 4u);
}

TEST_F(Repository, InReleaseFetchedByTheBuildIsVerifiedAllTheSame) {
  const std::string url = std::string(k_url) + "/dists/bookworm/InRelease";
  std::string tampered = m_http.m_files[url];
  tampered.replace(tampered.find("Codename: bookworm"), 18, "Codename: bookwarm");
  std::map<std::string, std::string> fetched = {{url, tampered}};
  m_options.fetched_inrelease = &fetched;
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find(url), std::string::npos) << loaded.error().message;
}

TEST_F(Repository, UnknownSigningKeyIsRejected) {
  auto other = util::read_file(s_dir->path() / "InRelease.other");
  ASSERT_TRUE(other.ok());
  m_http.m_files[std::string(k_url) + "/dists/bookworm/InRelease"] = *other;
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find("not in the keyring"), std::string::npos);
}

TEST_F(Repository, TamperedPackagesFileIsRejected) {
  std::string key;
  for (const auto& [url, body] : m_http.m_files) {
    if (url.find("bookworm-updates/main/binary-amd64/Packages") != std::string::npos) {
      key = url;
    }
  }
  ASSERT_FALSE(key.empty());
  m_http.m_files[key] += "\n";
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
}

TEST_F(Repository, ExpiredReleaseIsRejectedUnlessAllowed) {
  m_options.now = 1790000000;  // after Valid-Until
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("expired"), std::string::npos) << loaded.error().message;
  m_options.allow_expired = true;
  EXPECT_TRUE(load().ok());
  m_options.allow_expired = false;
  m_source.check_valid_until = false;
  EXPECT_TRUE(load().ok());
}

TEST_F(Repository, MissingComponentOrSuiteIsAnError) {
  m_source.components = {"main", "contrib"};
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::NotFound);
  EXPECT_NE(loaded.error().message.find("contrib/binary-amd64"), std::string::npos);

  m_source.components = {"main"};
  m_source.suites = {"trixie"};
  auto suite = load();
  ASSERT_FALSE(suite.ok());
  EXPECT_NE(suite.error().message.find("/dists/trixie/Release"), std::string::npos)
      << suite.error().message;
}

// Issue 11, item 4: trixie's Release served under dists/bookworm is refused.
TEST_F(Repository, ReleaseOfAnotherSuiteIsRejected) {
  m_http.m_files[std::string(k_url) + "/dists/bookworm/InRelease"] =
      *util::read_file(s_dir->path() / "InRelease.trixie");
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find(std::string(k_url) + "/dists/bookworm/InRelease: a "
                                                             "Release for 'trixie'"),
            std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("served for suite 'bookworm'"), std::string::npos);
}

TEST(ReleaseSuite, SuiteOrCodenameMustMatch) {
  ReleaseFile release;
  release.suite = "stable";
  release.codename = "bookworm";
  EXPECT_TRUE(check_release_suite(release, "bookworm", "o").ok());
  EXPECT_TRUE(check_release_suite(release, "stable", "o").ok());
  EXPECT_FALSE(check_release_suite(release, "trixie", "o").ok());
  release.suite = "oldstable-updates";
  release.codename = "buster-updates";
  EXPECT_TRUE(check_release_suite(release, "buster/updates", "o").ok());
  ReleaseFile bare;  // neither field: nothing to compare
  EXPECT_TRUE(check_release_suite(bare, "anything", "o").ok());
}

// Issue 11, item 3: once a Release dated 11 Jul was seen, a validly signed
// one dated 10 Jul is a rollback, refused unless explicitly allowed.
TEST_F(Repository, OlderReleaseThanSeenIsRejectedUnlessAllowed) {
  ASSERT_TRUE(load().ok());
  const std::string url = std::string(k_url) + "/dists/bookworm/InRelease";
  std::string newer = m_http.m_files[url];
  m_http.m_files[url] = *util::read_file(s_dir->path() / "InRelease.older");
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find(url + ": Date 'Fri, 10 Jul 2026 10:16:37 UTC' is older "
                                              "than the Sat, 11 Jul 2026 10:16:37 UTC already "
                                              "seen"),
            std::string::npos)
      << loaded.error().message;
  m_options.allow_release_rollback = true;
  ASSERT_TRUE(load().ok());
  // Accepting it did not lower what was seen.
  m_options.allow_release_rollback = false;
  EXPECT_FALSE(load().ok());
  m_http.m_files[url] = newer;
  EXPECT_TRUE(load().ok());

  // A fresh cache has seen nothing: the older one passes there.
  auto other = util::TempDir::create("distill-cache-");
  ASSERT_TRUE(other.ok());
  auto cache = net::ContentCache::open(other->path());
  ASSERT_TRUE(cache.ok());
  m_http.m_files[url] = *util::read_file(s_dir->path() / "InRelease.older");
  EXPECT_TRUE(load_repositories(m_http, *cache, {m_source}, "amd64", m_options).ok());
}

// A Date more than the tolerance ahead of the clock is refused.
TEST_F(Repository, ReleaseDatedInTheFutureIsRejected) {
  m_options.now = 1783764997 - 3600;  // an hour before the Release's Date
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("is in the future"), std::string::npos)
      << loaded.error().message;
  m_options.now = 1783764997 - 60;  // a minute: within the tolerance
  EXPECT_TRUE(load().ok());
}

// The check the build makes on a Release copy whose resolution it cached.
TEST_F(Repository, ReplayCheckOnACachedReleaseBody) {
  ASSERT_TRUE(load().ok());
  fs::path history = m_cache_dir->path() / "release-dates";
  std::string base = std::string(k_url) + "/dists/bookworm/";
  auto older = *util::read_file(s_dir->path() / "InRelease.older");
  Status status = check_release_replay(history, base, older, m_options.now, false);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("older than"), std::string::npos);
  EXPECT_TRUE(check_release_replay(history, base, older, m_options.now, true).ok());
  EXPECT_TRUE(
      check_release_replay(history, base, m_http.m_files[base + "InRelease"], m_options.now, false)
          .ok());
}

TEST_F(Repository, SourcesRestrictedToOtherArchitecturesAreSkipped) {
  m_source.archs = {"arm64"};
  auto loaded = load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->index.size(), 0u);
  EXPECT_TRUE(m_http.m_requests.empty());
}

}  // namespace
}  // namespace distill::debian
