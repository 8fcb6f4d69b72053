// Contents index tests (contents_index.hpp): the streaming scanner on synthetic
// text split at every position, the soname ranking, and load_soname_providers
// against a gpg-signed repository served by a fake HttpClient.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "debian/contents_index.hpp"
#include "fake_http.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::debian {
namespace {

namespace fs = std::filesystem;

const char* const k_contents =
    "bin/ls                                                  utils/coreutils\n"
    "usr/share/doc/libssl3/changelog.gz                      libs/libssl3\n"
    "usr/lib/x86_64-linux-gnu/libssl.so.3                    libs/libssl3\n"
    "usr/lib/x86_64-linux-gnu/libssl.so                      libdevel/libssl-dev\n"
    "lib/x86_64-linux-gnu/libc.so.6                          libs/libc6\n"
    "usr/lib/x86_64-linux-gnu/pulseaudio/libpulsecommon.so   sound/libpulse0\n"
    "usr/lib/i386-linux-gnu/libz.so.1                        libs/lib32z-fake\n"
    "usr/lib32/libz.so.1                                     libs/lib32z1\n"
    "lib/x86_64-linux-gnu/libz.so.1                          libs/zlib1g\n"
    "usr/lib/libz.so.1                                       non-free/libs/zlib-old,libs/zlib1g\n"
    "usr/share/man/man3/libz.so.1.3.gz                       doc/zlib-doc\n"
    "usr/lib/x86_64-linux-gnu/libfoo.so.1\tlibs/libfoo1,libs/libfoo1-alt,libs/libfoo1\n"
    "usr/lib/my lib.so.2                                     libs/spacey\n"
    "lib64/ld-linux-x86-64.so.2                              libs/libc6\n";

std::string scan_whole(std::string_view text) {
  SonameProviders out;
  Status status = scan_contents(text, out, "test");
  EXPECT_TRUE(status.ok()) << status.error().message;
  return serialize_soname_providers(out);
}

TEST(ContentsScanner, KeepsOnlyLibraryFiles) {
  SonameProviders out;
  ASSERT_TRUE(scan_contents(k_contents, out, "Contents-amd64").ok());
  std::vector<std::string> names;
  for (const auto& [name, entries] : out.by_name) {
    names.push_back(name);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"ld-linux-x86-64.so.2", "libc.so.6", "libfoo.so.1",
                                      "libssl.so", "libssl.so.3", "libz.so.1", "my lib.so.2"}));
  ASSERT_EQ(out.by_name["libssl.so.3"].size(), 1u);
  EXPECT_EQ(out.by_name["libssl.so.3"][0].first, "usr/lib/x86_64-linux-gnu/libssl.so.3");
  EXPECT_EQ(out.by_name["libssl.so.3"][0].second, std::vector<std::string>{"libssl3"});
  // Several packages, sorted and unique; the area/section prefix is dropped.
  EXPECT_EQ(out.by_name["libfoo.so.1"][0].second,
            (std::vector<std::string>{"libfoo1", "libfoo1-alt"}));
  // Sorted by path; the man page and the private pulseaudio dir are not kept.
  const auto& libz = out.by_name["libz.so.1"];
  ASSERT_EQ(libz.size(), 4u);
  EXPECT_EQ(libz[0].first, "lib/x86_64-linux-gnu/libz.so.1");
  EXPECT_EQ(libz[1].first, "usr/lib/i386-linux-gnu/libz.so.1");
  EXPECT_EQ(libz[2].first, "usr/lib/libz.so.1");
  EXPECT_EQ(libz[2].second, (std::vector<std::string>{"zlib-old", "zlib1g"}));
  EXPECT_EQ(libz[3].first, "usr/lib32/libz.so.1");
  EXPECT_EQ(out.by_name.count("libpulsecommon.so"), 0u);
  // A path containing a space keeps it.
  EXPECT_EQ(out.by_name["my lib.so.2"][0].first, "usr/lib/my lib.so.2");
}

TEST(ContentsScanner, AnySplitGivesTheSameResult) {
  std::string text = k_contents;
  std::string expected = scan_whole(text);
  for (size_t split = 0; split <= text.size(); ++split) {
    SonameProviders out;
    ContentsScanner scanner(out, "test");
    ASSERT_TRUE(scanner.feed(std::string_view(text).substr(0, split)).ok());
    ASSERT_TRUE(scanner.feed(std::string_view(text).substr(split)).ok());
    ASSERT_TRUE(scanner.finish().ok());
    ASSERT_EQ(serialize_soname_providers(out), expected) << "split at " << split;
  }
  // Three pieces, at every pair of positions in a shorter text (whole lines).
  std::string short_text = text.substr(0, text.find('\n', 400) + 1);
  std::string short_expected = scan_whole(short_text);
  for (size_t a = 0; a <= short_text.size(); a += 7) {
    for (size_t b = a; b <= short_text.size(); ++b) {
      SonameProviders out;
      ContentsScanner scanner(out, "test");
      std::string_view view(short_text);
      ASSERT_TRUE(scanner.feed(view.substr(0, a)).ok());
      ASSERT_TRUE(scanner.feed(view.substr(a, b - a)).ok());
      ASSERT_TRUE(scanner.feed(view.substr(b)).ok());
      ASSERT_TRUE(scanner.finish().ok());
      ASSERT_EQ(serialize_soname_providers(out), short_expected) << a << "/" << b;
    }
  }
}

TEST(ContentsScanner, ByteAtATime) {
  std::string text = k_contents;
  SonameProviders out;
  ContentsScanner scanner(out, "test");
  for (char c : text) {
    ASSERT_TRUE(scanner.feed(std::string_view(&c, 1)).ok());
  }
  ASSERT_TRUE(scanner.finish().ok());
  EXPECT_EQ(serialize_soname_providers(out), scan_whole(text));
}

TEST(ContentsScanner, LastLineWithoutNewlineAndCrlf) {
  SonameProviders out;
  ASSERT_TRUE(scan_contents("lib/libx.so.1 libs/x1\r\nusr/lib/liby.so.2   libs/y2", out, "t").ok());
  ASSERT_EQ(out.by_name.size(), 2u);
  EXPECT_EQ(out.by_name["libx.so.1"][0].second, std::vector<std::string>{"x1"});
  EXPECT_EQ(out.by_name["liby.so.2"][0].second, std::vector<std::string>{"y2"});
}

TEST(ContentsScanner, MalformedLibraryLineNamesTheLine) {
  SonameProviders out;
  Status status = scan_contents("bin/true utils/coreutils\nlib/libx.so.1\n", out, "Contents-amd64");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(status.error().message.find("Contents-amd64:2:"), std::string::npos)
      << status.error().message;
  // Lines that cannot matter (headers of old Contents files) are skipped.
  SonameProviders other;
  EXPECT_TRUE(scan_contents("FILE LOCATION\nsomething\n", other, "t").ok());
  EXPECT_TRUE(other.by_name.empty());
}

TEST(ContentsScanner, OverlongLineIsCorrupt) {
  SonameProviders out;
  ContentsScanner scanner(out, "t");
  std::string chunk(40 * 1024, 'a');
  ASSERT_TRUE(scanner.feed("lib/").ok());
  ASSERT_TRUE(scanner.feed(chunk).ok());
  Status status = scanner.feed(chunk);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
}

TEST(ContentsScanner, MergesTheSamePathFromSeveralIndexes) {
  SonameProviders out;
  ASSERT_TRUE(scan_contents("usr/lib/x86_64-linux-gnu/libq.so.1 libs/q1\n", out, "a").ok());
  ASSERT_TRUE(
      scan_contents("usr/lib/x86_64-linux-gnu/libq.so.1 libs/q1-new,libs/q1\n", out, "b").ok());
  ASSERT_EQ(out.by_name["libq.so.1"].size(), 1u);
  EXPECT_EQ(out.by_name["libq.so.1"][0].second, (std::vector<std::string>{"q1", "q1-new"}));
}

TEST(ContentsScanner, SerializationRoundTrips) {
  SonameProviders out;
  ASSERT_TRUE(scan_contents(k_contents, out, "t").ok());
  std::string text = serialize_soname_providers(out);
  SonameProviders back;
  ASSERT_TRUE(scan_contents(text, back, "cache").ok());
  EXPECT_EQ(back.by_name, out.by_name);
}

TEST(ContentsIndex, LibraryPaths) {
  EXPECT_TRUE(is_library_path("lib/libc.so.6"));
  EXPECT_TRUE(is_library_path("usr/lib/x86_64-linux-gnu/libssl.so.3"));
  EXPECT_TRUE(is_library_path("lib/aarch64-linux-gnu/libc.so.6"));
  EXPECT_TRUE(is_library_path("usr/lib/arm-linux-gnueabihf/libm.so.6"));
  EXPECT_TRUE(is_library_path("lib64/ld-linux-x86-64.so.2"));
  EXPECT_TRUE(is_library_path("usr/lib64/libx.so"));
  EXPECT_FALSE(is_library_path("usr/lib/x86_64-linux-gnu/libssl.a"));
  EXPECT_FALSE(is_library_path("usr/lib/x86_64-linux-gnu/perl5/5.36/auto/POSIX/POSIX.so"));
  EXPECT_FALSE(is_library_path("usr/share/lib/libx.so.1"));
  EXPECT_FALSE(is_library_path("usr/local/lib/libx.so.1"));
  EXPECT_FALSE(is_library_path("libx.so.1"));
}

TEST(ContentsIndex, RanksMultiarchThenLibThenUsrLib) {
  SonameProviders out;
  ASSERT_TRUE(scan_contents(k_contents, out, "t").ok());
  // zlib1g is in lib/<triplet> (first) and usr/lib; zlib-old only in usr/lib; the
  // i386 directory is foreign; usr/lib32 comes last.
  EXPECT_EQ(packages_for_soname(out, "libz.so.1", "x86_64-linux-gnu"),
            (std::vector<std::string>{"zlib1g", "zlib-old", "lib32z1"}));
  EXPECT_EQ(packages_for_soname(out, "libz.so.1", "i386-linux-gnu"),
            (std::vector<std::string>{"lib32z-fake", "zlib-old", "zlib1g", "lib32z1"}));
  EXPECT_EQ(packages_for_soname(out, "libssl.so.3", "x86_64-linux-gnu"),
            std::vector<std::string>{"libssl3"});
  EXPECT_TRUE(packages_for_soname(out, "libssl.so.3", "aarch64-linux-gnu").empty());
  EXPECT_TRUE(packages_for_soname(out, "libnothere.so.1", "x86_64-linux-gnu").empty());

  SonameProviders ranked;
  ASSERT_TRUE(scan_contents("usr/lib/libr.so.1 libs/c\n"
                            "lib/libr.so.1 libs/b\n"
                            "usr/lib64/libr.so.1 libs/e\n"
                            "lib64/libr.so.1 libs/d\n"
                            "usr/lib/x86_64-linux-gnu/libr.so.1 libs/z,libs/a\n",
                            ranked, "t")
                  .ok());
  EXPECT_EQ(packages_for_soname(ranked, "libr.so.1", "x86_64-linux-gnu"),
            (std::vector<std::string>{"a", "z", "b", "c", "d", "e"}));
}

// ---- loading through a signed repository -------------------------------------

constexpr const char* k_url = "http://repo.invalid/debian";

using fakes::FakeHttp;

// bookworm: InRelease, Acquire-By-Hash, main/Contents-amd64.gz (+ a decoy
// Contents-all.gz and a non-listed component). bookworm-updates: Release +
// Release.gpg, an uncompressed Contents-amd64 at the suite root.
const char* const k_script = R"SH(
set -e
root="$1"
export GNUPGHOME="$root/home"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Repo <repo@test.invalid>' ed25519 sign never
gpg --batch --export repo@test.invalid > "$root/repo.gpg"
entries() {
  (cd "$1" && for f in $(find . -type f -name 'Contents*' ! -path '*by-hash*' | sed 's|^\./||' | sort); do
     printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
   done)
}
d="$root/repo/dists/bookworm"
gzip -9n "$d/main/Contents-amd64" "$d/main/Contents-all"
mkdir -p "$d/main/by-hash/SHA256"
h=$(sha256sum "$d/main/Contents-amd64.gz" | cut -d' ' -f1)
mv "$d/main/Contents-amd64.gz" "$d/main/by-hash/SHA256/$h"
{ printf 'Suite: stable\nCodename: bookworm\nAcquire-By-Hash: yes\n'
  printf 'Architectures: amd64\nComponents: main\nSHA256:\n'
  printf ' %s %s %s\n' "$h" "$(stat -c %s "$d/main/by-hash/SHA256/$h")" main/Contents-amd64.gz
  entries "$d"; } > "$d/Release"
gpg --batch --quiet --local-user repo@test.invalid --clearsign -o "$d/InRelease" "$d/Release"
rm "$d/Release"
u="$root/repo/dists/bookworm-updates"
{ printf 'Suite: stable-updates\nCodename: bookworm-updates\nArchitectures: amd64\n'
  printf 'Components: main\nSHA256:\n'
  entries "$u"; } > "$u/Release"
gpg --batch --quiet --local-user repo@test.invalid --armor --detach-sign -o "$u/Release.gpg" "$u/Release"
gpgconf --kill gpg-agent || true
)SH";

const char* const k_updates_contents =
    "usr/lib/x86_64-linux-gnu/libssl.so.3 libs/libssl3-new\n"
    "usr/lib/x86_64-linux-gnu/libnew.so.9 libs/libnew9\n";

class ContentsLoad : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (util::find_program("gpg").empty() || util::find_program("gpgv").empty() ||
        util::find_program("gzip").empty()) {
      return;
    }
    auto dir = util::TempDir::create("distill-contents-");
    ASSERT_TRUE(dir.ok());
    s_dir = std::make_unique<util::TempDir>(std::move(*dir));
    fs::path dists = s_dir->path() / "repo/dists";
    fs::create_directories(dists / "bookworm/main");
    fs::create_directories(dists / "bookworm-updates");
    ASSERT_TRUE(util::write_file_atomic(dists / "bookworm/main/Contents-amd64", k_contents).ok());
    ASSERT_TRUE(util::write_file_atomic(dists / "bookworm/main/Contents-all",
                                        "usr/lib/libdecoy.so.1 libs/decoy\n")
                    .ok());
    ASSERT_TRUE(
        util::write_file_atomic(dists / "bookworm-updates/Contents-amd64", k_updates_contents)
            .ok());
    util::Command command;
    command.argv = {"bash", "-c", k_script, "bash", s_dir->path().string()};
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
    serve(m_http);
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
  }

  static void serve(FakeHttp& http) {
    fs::path repo = s_dir->path() / "repo";
    for (const auto& entry : fs::recursive_directory_iterator(repo)) {
      if (entry.is_regular_file()) {
        auto data = util::read_file(entry.path());
        ASSERT_TRUE(data.ok());
        http.m_files[std::string(k_url) + "/" + fs::relative(entry.path(), repo).string()] = *data;
      }
    }
  }

  Result<SonameProviders> load(FakeHttp& http) {
    return load_soname_providers(http, *m_cache, {m_source}, "amd64", m_options);
  }

  static inline std::unique_ptr<util::TempDir> s_dir;
  static inline bool s_ready = false;
  FakeHttp m_http;
  std::unique_ptr<util::TempDir> m_cache_dir;
  std::unique_ptr<net::ContentCache> m_cache;
  AptSource m_source;
  RepositoryOptions m_options;
};

TEST_F(ContentsLoad, MergesSuitesAndUsesByHash) {
  auto loaded = load(m_http);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(packages_for_soname(*loaded, "libssl.so.3", "x86_64-linux-gnu"),
            (std::vector<std::string>{"libssl3", "libssl3-new"}));
  EXPECT_EQ(packages_for_soname(*loaded, "libnew.so.9", "x86_64-linux-gnu"),
            std::vector<std::string>{"libnew9"});
  EXPECT_EQ(packages_for_soname(*loaded, "libz.so.1", "x86_64-linux-gnu").front(), "zlib1g");
  // Contents-all is not read; the bookworm index came by hash (the plain path is gone).
  EXPECT_EQ(loaded->by_name.count("libdecoy.so.1"), 0u);
  EXPECT_EQ(m_http.count("Contents-all"), 0u);
  EXPECT_EQ(m_http.count("dists/bookworm/main/by-hash/SHA256/"), 1u);
  EXPECT_EQ(m_http.count("dists/bookworm-updates/Contents-amd64"), 1u);
}

TEST_F(ContentsLoad, WarmCallNeitherDownloadsNorRescans) {
  auto first = load(m_http);
  ASSERT_TRUE(first.ok()) << first.error().message;
  // Drop the cached index files: the second call must use the parsed copy.
  for (const auto& entry : fs::directory_iterator(m_cache_dir->path() / "sha256")) {
    fs::remove(entry.path());
  }
  FakeHttp second_http;
  serve(second_http);
  auto second = load(second_http);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->by_name, first->by_name);
  EXPECT_EQ(second_http.count("Contents"), 0u);
  EXPECT_EQ(second_http.count("dists/bookworm/InRelease"), 1u);  // metadata is still verified
}

TEST_F(ContentsLoad, DamagedParsedCopyIsRebuilt) {
  auto first = load(m_http);
  ASSERT_TRUE(first.ok()) << first.error().message;
  for (const auto& entry : fs::directory_iterator(m_cache_dir->path() / "contents")) {
    ASSERT_TRUE(util::write_file_atomic(entry.path(), "garbage").ok());
  }
  auto second = load(m_http);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->by_name, first->by_name);
}

TEST_F(ContentsLoad, TamperedIndexIsRejected) {
  std::string url = std::string(k_url) + "/dists/bookworm-updates/Contents-amd64";
  m_http.m_files[url] = "usr/lib/x86_64-linux-gnu/libssl.so.3 libs/evil\n";
  auto loaded = load(m_http);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(loaded.error().message.find("mismatch"), std::string::npos) << loaded.error().message;
}

TEST_F(ContentsLoad, BadSignatureIsRejected) {
  std::string url = std::string(k_url) + "/dists/bookworm/InRelease";
  std::string& inrelease = m_http.m_files[url];
  size_t pos = inrelease.find("Codename: bookworm");
  ASSERT_NE(pos, std::string::npos);
  inrelease.replace(pos, 18, "Codename: bookwarm");
  auto loaded = load(m_http);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::Corrupt);
}

TEST_F(ContentsLoad, NoIndexIsNotFound) {
  auto loaded = load_soname_providers(m_http, *m_cache, {m_source}, "arm64", m_options);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::NotFound);
  EXPECT_NE(loaded.error().message.find("Contents-arm64"), std::string::npos);
}

}  // namespace
}  // namespace distill::debian
