// Packages index parsing and PackageIndex lookup tests (package_index.hpp).
#include <gtest/gtest.h>

#include "debian/package_index.hpp"

namespace distill::debian {
namespace {

const char* const k_packages =
    "Package: libc6\n"
    "Source: glibc (2.36-9+deb12u7)\n"
    "Version: 2.36-9+deb12u10\n"
    "Installed-Size: 12986\n"
    "Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n"
    "Architecture: amd64\n"
    "Multi-Arch: same\n"
    "Depends: libgcc-s1\n"
    "Pre-Depends: debconf (>= 0.5) | debconf-2.0\n"
    "Description: GNU C Library: Shared libraries\n"
    " Contains the standard libraries.\n"
    "Section: libs\n"
    "Priority: optional\n"
    "Filename: pool/main/g/glibc/libc6_2.36-9+deb12u10_amd64.deb\n"
    "Size: 2757936\n"
    "SHA256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "\n"
    "Package: mawk\n"
    "Version: 1.3.4.20200120-3.1\n"
    "Architecture: amd64\n"
    "Essential: yes\n"
    "Provides: awk, mawk-virtual (= 1.3.4)\n"
    "Filename: pool/main/m/mawk/mawk_1.3.4.20200120-3.1_amd64.deb\n"
    "Size: 1000\n"
    "SHA256: 1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";

TEST(PackageIndex, ParsesRecords) {
  auto records = parse_packages(k_packages, "main/binary-amd64/Packages");
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  const PackageRecord& libc = (*records)[0];
  EXPECT_EQ(libc.name, "libc6");
  EXPECT_EQ(libc.version, "2.36-9+deb12u10");
  EXPECT_EQ(libc.source, "glibc");
  EXPECT_EQ(libc.source_version, "2.36-9+deb12u7");
  EXPECT_EQ(libc.arch, "amd64");
  EXPECT_EQ(libc.multi_arch, "same");
  EXPECT_EQ(libc.section, "libs");
  EXPECT_EQ(libc.installed_size, 12986u);
  EXPECT_EQ(libc.size, 2757936u);
  EXPECT_EQ(libc.filename, "pool/main/g/glibc/libc6_2.36-9+deb12u10_amd64.deb");
  EXPECT_EQ(libc.sha256.hex(), "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(libc.essential);
  ASSERT_EQ(libc.depends.size(), 1u);
  ASSERT_EQ(libc.pre_depends.size(), 1u);
  EXPECT_EQ(libc.pre_depends[0].to_string(), "debconf (>= 0.5) | debconf-2.0");

  const PackageRecord& mawk = (*records)[1];
  EXPECT_TRUE(mawk.essential);
  EXPECT_EQ(mawk.source, "mawk");
  EXPECT_EQ(mawk.source_version, mawk.version);
  ASSERT_EQ(mawk.provides.size(), 2u);
  EXPECT_EQ(mawk.provides[1].to_string(), "mawk-virtual (= 1.3.4)");

  PackageIndex index;
  index.add(std::move(*records));
  EXPECT_EQ(index.size(), 2u);
  ASSERT_EQ(index.by_name("libc6").size(), 1u);
  EXPECT_EQ(index.by_name("libc6")[0]->version, "2.36-9+deb12u10");
  EXPECT_TRUE(index.by_name("nope").empty());
  ASSERT_EQ(index.providers("awk").size(), 1u);
  EXPECT_EQ(index.providers("awk")[0].first->name, "mawk");
  EXPECT_EQ(index.providers("awk")[0].second->name, "awk");
  EXPECT_TRUE(index.providers("libc6").empty());
}

TEST(PackageIndex, PointersStayValidAcrossAdds) {
  PackageIndex index;
  std::vector<PackageRecord> first(1);
  first[0].name = "a";
  first[0].version = "1";
  index.add(std::move(first));
  const PackageRecord* a = index.by_name("a")[0];
  for (int i = 0; i < 1000; ++i) {
    std::vector<PackageRecord> more(1);
    more[0].name = "p" + std::to_string(i);
    index.add(std::move(more));
  }
  EXPECT_EQ(index.by_name("a")[0], a);
  EXPECT_EQ(a->name, "a");
}

// Records without a suite (a lock's) name their repository alone, and an index
// said to come from a lock file names that instead.
TEST(PackageIndex, OriginsOfRecordsAndOfALockFile) {
  PackageIndex index;
  std::vector<PackageRecord> records(2);
  records[0].name = "a";
  records[0].repo_url = "http://m/debian";
  records[1].name = "b";
  records[1].repo_url = "http://m/debian";
  records[1].suite = "bookworm";
  index.add(std::move(records));
  EXPECT_EQ(index.origins(),
            (std::vector<std::string>{"http://m/debian", "http://m/debian bookworm"}));
  index.describe_source("app.lock (the lock file)");
  EXPECT_EQ(index.origins(), std::vector<std::string>{"app.lock (the lock file)"});
}

TEST(PackageIndex, MissingRequiredFieldsNameOriginAndLine) {
  std::string sha = "SHA256: " + std::string(64, 'a') + "\n";
  struct Case {
    std::string text;
    std::string expect;
  };
  const Case cases[] = {
      {"Version: 1\nFilename: f\n" + sha, "P:1: stanza lacks the Package field"},
      {"Package: a\nVersion: 1\nFilename: f\n\nPackage: b\nFilename: f\n" + sha,
       "P:1: package 'a' lacks the SHA256 field"},
      {"Package: a\nVersion: 1\nFilename: f\n" + sha + "\nPackage: b\nFilename: f\n" + sha,
       "P:6: package 'b' lacks the Version field"},
      {"Package: a\nVersion: 1\n" + sha, "lacks the Filename field"},
      {"Package: a\nVersion: 1\nFilename: f\nSHA256: xyz\n", "P:4: invalid SHA256"},
      {"Package: a\nVersion: 1\nFilename: f\nSize: 12k\n" + sha, "P:4: invalid Size"},
      {"Package: a\nVersion: 1\nFilename: f\nDepends: b (>= \n" + sha,
       "P:4: Depends: invalid relation"},
  };
  for (const Case& c : cases) {
    auto r = parse_packages(c.text, "P");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

// add_text keeps the text and parses a stanza on its first lookup: the records
// equal parse_packages' and carry the text's origin.
TEST(PackageIndex, KeptTextParsesOnLookup) {
  PackageIndex index;
  ASSERT_TRUE(index
                  .add_text(k_packages, {"http://m/dists/x/main/binary-amd64/Packages", "http://m",
                                         "x", "main"})
                  .ok());
  EXPECT_EQ(index.size(), 2u);
  ASSERT_EQ(index.by_name("libc6").size(), 1u);
  const PackageRecord* libc = index.by_name("libc6")[0];
  EXPECT_EQ(libc->version, "2.36-9+deb12u10");
  EXPECT_EQ(libc->source, "glibc");
  EXPECT_EQ(libc->repo_url, "http://m");
  EXPECT_EQ(libc->suite, "x");
  EXPECT_EQ(libc->component, "main");
  ASSERT_EQ(libc->pre_depends.size(), 1u);
  EXPECT_EQ(index.by_name("libc6")[0], libc);  // parsed once, the same record after
  ASSERT_EQ(index.providers("mawk-virtual").size(), 1u);
  EXPECT_EQ(index.providers("mawk-virtual")[0].first->name, "mawk");
  EXPECT_EQ(index.providers("mawk-virtual")[0].second->to_string(), "mawk-virtual (= 1.3.4)");
  EXPECT_EQ(index.providers("mawk-virtual")[0].first, index.by_name("mawk")[0]);
  EXPECT_TRUE(index.by_name("awk").empty());
  EXPECT_EQ(index.origins(), std::vector<std::string>{"http://m x"});
  EXPECT_TRUE(index.status().ok());
}

// Required fields are checked when the text is added, with the line.
TEST(PackageIndex, KeptTextChecksRequiredFields) {
  std::string sha = "SHA256: " + std::string(64, 'a') + "\n";
  PackageIndex index;
  auto added = index.add_text(
      "Package: a\nVersion: 1\nFilename: f\n" + sha + "\nPackage: b\nFilename: f\n" + sha,
      {"P", "", "", ""});
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.error().message.find("P:6: package 'b' lacks the Version field"),
            std::string::npos)
      << added.error().message;
  auto provides = index.add_text("Package: a\nVersion: 1\nProvides: x | y\nFilename: f\n" + sha,
                                 {"P", "", "", ""});
  ASSERT_FALSE(provides.ok());
  EXPECT_NE(provides.error().message.find("P:3: Provides: alternatives"), std::string::npos);
}

// A stanza that only fails to parse on lookup is left out and reported by
// status(), naming the stanza's first line in the file (the kept text drops
// fields, so its own line numbers are not the file's); the others still work.
TEST(PackageIndex, KeptTextDefersStanzaErrors) {
  std::string sha = "SHA256: " + std::string(64, 'a') + "\n";
  PackageIndex index;
  ASSERT_TRUE(index
                  .add_text("Package: a\nVersion: 1\nFilename: f\n" + sha +
                                "\nPackage: b\nVersion: 1\nFilename: f\nDepends: c (>= \n" + sha,
                            {"P", "", "", ""})
                  .ok());
  EXPECT_EQ(index.by_name("a").size(), 1u);
  EXPECT_TRUE(index.status().ok());
  EXPECT_TRUE(index.by_name("b").empty());
  ASSERT_FALSE(index.status().ok());
  EXPECT_NE(index.status().error().message.find("P:6: Depends: invalid relation"),
            std::string::npos)
      << index.status().error().message;
}

// Fed in pieces of any size, a PackagesText keeps the same stanzas, lines and
// fields as fed whole, and drops the fields no record reads.
TEST(PackageIndex, PackagesTextStreamsInAnyPieces) {
  std::string text = std::string(k_packages) +
                     "\nPackage: zz\nVersion: 3\nDescription: long\n more\n" +
                     "Filename: f\nSHA256: " + std::string(64, 'b') + "\n";
  for (size_t piece : {size_t{1}, size_t{7}, size_t{100}, text.size()}) {
    PackagesText packages("P");
    for (size_t at = 0; at < text.size(); at += piece) {
      ASSERT_TRUE(packages.write(std::string_view(text).substr(at, piece)).ok());
    }
    ASSERT_TRUE(packages.finish().ok());
    PackageIndex index;
    index.add(std::move(packages), {"P", "u", "s", "c"});
    ASSERT_EQ(index.size(), 3u) << piece;
    ASSERT_EQ(index.by_name("zz").size(), 1u);
    EXPECT_EQ(index.by_name("zz")[0]->version, "3");
    EXPECT_EQ(index.by_name("libc6")[0]->pre_depends[0].to_string(),
              "debconf (>= 0.5) | debconf-2.0");
    EXPECT_EQ(index.providers("awk")[0].first->name, "mawk");
  }
  // A broken stanza after a piece boundary still names its line in the file.
  PackagesText broken("P");
  ASSERT_TRUE(broken.write(text).ok());
  ASSERT_TRUE(broken.write("\nPackage: b\nFilename: f\n").ok());
  auto done = broken.finish();
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.error().message.find("P:34: package 'b' lacks the Version field"),
            std::string::npos)
      << done.error().message;
}

// Issue 11, item 1: one huge stanza with no blank line. Feeding it in small
// pieces is refused once it passes the stanza bound (linear: the whole 64 MiB
// would take minutes if each write searched everything pending), naming the
// file and the stanza's first line.
TEST(PackageIndex, HugeStanzaIsRefusedEarly) {
  PackagesText packages("http://127.0.0.1/Packages");
  std::string head =
      "Package: ok\nVersion: 1\nFilename: pool/ok.deb\nSHA256: " + std::string(64, 'a') +
      "\n\nPackage: bomb\nDescription: x\n";
  ASSERT_TRUE(packages.write(head).ok());
  std::string piece(4096, 'A');
  piece.back() = '\n';
  piece.front() = ' ';
  Status status;
  size_t written = 0;
  for (size_t i = 0; i < (size_t{64} << 20) / piece.size() && status.ok(); ++i) {
    status = packages.write(piece);
    written += piece.size();
  }
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(status.error().message.find("http://127.0.0.1/Packages:6: a stanza longer than"),
            std::string::npos)
      << status.error().message;
  // Refused as soon as the stanza passes the limit, not after all 64 MiB.
  EXPECT_LE(written, PackagesText::k_max_stanza + piece.size());
}

// The bound holds for a stanza that arrives in one piece too (a whole file).
TEST(PackageIndex, HugeStanzaInOneWriteIsRefused) {
  PackageIndex index;
  std::string text = "Package: big\nDescription: x\n";
  text += std::string(PackagesText::k_max_stanza + 10, 'B');
  Status status = index.add_text(text, IndexOrigin{"P", "", "", ""});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("P:1: a stanza longer than"), std::string::npos)
      << status.error().message;
}

// Decoding stops at the size the signed Release declares.
TEST(PackageIndex, TextPastItsDeclaredSizeIsRefused) {
  std::string stanza =
      "Package: a\nVersion: 1\nFilename: pool/a.deb\nSHA256: " + std::string(64, 'a') + "\n\n";
  PackagesText exact("P", 0, stanza.size());
  ASSERT_TRUE(exact.write(stanza).ok());
  ASSERT_TRUE(exact.finish().ok());
  PackagesText bounded("P", 0, stanza.size() * 3);
  Status status;
  for (int i = 0; i < 10 && status.ok(); ++i) {
    status = bounded.write(stanza);
  }
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(status.error().message.find("P: more than the " + std::to_string(stanza.size() * 3) +
                                        " bytes its Release declares"),
            std::string::npos)
      << status.error().message;
}

TEST(PackageIndex, InvalidPackageNameIsRefusedWithItsLine) {
  std::string text =
      "Package: ok\nVersion: 1\nFilename: pool/ok.deb\nSHA256: " + std::string(64, 'a') +
      "\n\nPackage: ..\nVersion: 1\nFilename: pool/x.deb\n"
      "SHA256: " +
      std::string(64, 'b') + "\n";
  PackageIndex index;
  Status status = index.add_text(text, IndexOrigin{"P", "", "", ""});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("P:6: invalid package name '..'"), std::string::npos)
      << status.error().message;
  auto parsed = parse_packages(text, "P");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("P:6: invalid package name '..'"), std::string::npos)
      << parsed.error().message;
}

// A name's stanzas come back in the order they were added, across texts and
// record lists; a stanza naming a virtual package twice is read once, and gives
// each of its Provides entries; a name nothing has is empty, and asking again
// gives the same answer.
TEST(PackageIndex, LookupsKeepInsertionOrderAcrossTexts) {
  auto stanza = [](const std::string& name, const std::string& version, const std::string& extra) {
    return "Package: " + name + "\nVersion: " + version +
           "\nFilename: f\nSHA256: " + std::string(64, 'a') + "\n" + extra + "\n";
  };
  PackageIndex index;
  ASSERT_TRUE(
      index
          .add_text(stanza("tool", "1", "Provides: virt, virt\n") + stanza("other", "1", ""),
                    {"A", "u", "s", "c"})
          .ok());
  PackageRecord record;
  record.name = "tool";
  record.version = "2";
  index.add({record});
  ASSERT_TRUE(
      index.add_text(stanza("tool", "3", "Provides: virt (= 3)\n"), {"B", "u", "s", "c"}).ok());
  const auto& tools = index.by_name("tool");
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(tools[0]->version, "1");
  EXPECT_EQ(tools[1]->version, "2");
  EXPECT_EQ(tools[2]->version, "3");
  EXPECT_EQ(&index.by_name("tool"), &tools);  // the same vector, not made again
  const auto& virt = index.providers("virt");
  ASSERT_EQ(virt.size(), 3u);  // "virt, virt" of version 1 (each entry), then version 3
  EXPECT_EQ(virt[0].first->version, "1");
  EXPECT_EQ(virt[1].first->version, "1");
  EXPECT_EQ(virt[2].first->version, "3");
  EXPECT_TRUE(index.by_name("nothing").empty());
  EXPECT_TRUE(index.providers("tool").empty());
  EXPECT_TRUE(index.status().ok());
}

}  // namespace
}  // namespace distill::debian
