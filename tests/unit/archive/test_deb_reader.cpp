// Unit tests for DebReader on packages built here with dpkg-deb, and on hostile
// packages assembled with python3 tarfile + ar.
#include <gtest/gtest.h>

#include <map>

#include "../support/python.hpp"
#include "../support/xz_data.hpp"
#include "archive/ar_reader.hpp"
#include "archive/deb_reader.hpp"
#include "archive/xz_block_reader.hpp"
#include "test_support.hpp"

namespace distill::archive {
namespace {

using testing::have;
using testing::run_ok;
using testing::scratch;

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& data) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(util::write_file_atomic(path, data).ok());
}

// Builds hello_1.0_amd64.deb with dpkg-deb (compressor `z`) in `dir`.
fs::path build_deb(const fs::path& dir, const std::string& z) {
  fs::path root = dir / "pkg";
  write(root / "DEBIAN/control",
        "Package: hello\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\n"
        "Description: test package\n");
  write(root / "DEBIAN/md5sums", "5d41402abc4b2a76b9719d911017c592  usr/share/hello/hi\n");
  write(root / "DEBIAN/conffiles", "/etc/hello.conf\n");
  write(root / "usr/share/hello/hi", "hello");
  write(root / "etc/hello.conf", "x=1\n");
  fs::create_directories(root / "usr/bin");
  fs::create_symlink("../share/hello/hi", root / "usr/bin/hi");
  fs::create_hard_link(root / "usr/share/hello/hi", root / "usr/share/hello/hi2");
  fs::path deb = dir / ("hello_1.0_amd64." + z + ".deb");
  run_ok({"dpkg-deb", "--root-owner-group", "-Z" + z, "--build", root.string(), deb.string()});
  return deb;
}

bool have_tools() { return have("dpkg-deb") && have("ar") && have("python3"); }

TEST(DebReader, ReadsControlAndDataBuiltByDpkgDeb) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  for (std::string z : {"xz", "gzip", "zstd", "none"}) {
    auto dir = scratch();
    fs::path deb = build_deb(dir.path(), z);
    auto reader = DebReader::open(deb, "hello");
    ASSERT_TRUE(reader.ok()) << z << ": " << reader.error().message;
    auto control = reader->read_control();
    ASSERT_TRUE(control.ok()) << control.error().message;
    EXPECT_NE(control->control.find("Package: hello\n"), std::string::npos);
    EXPECT_EQ(control->md5sums, "5d41402abc4b2a76b9719d911017c592  usr/share/hello/hi\n");

    std::map<std::string, TarEntry> entries;
    std::vector<std::string> order;
    std::string hi;
    Status status =
        reader->for_each_data_entry([&](const TarEntry& entry, ContentReader& content) -> Status {
          entries[entry.path] = entry;
          order.push_back(entry.path);
          if (entry.path == "usr/share/hello/hi") {
            DISTILL_TRY(hi, content.read_all());
          }
          return {};
        });
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(hi, "hello");
    EXPECT_EQ(order.front(), "etc");  // the root "./" is skipped
    ASSERT_EQ(entries.count("usr/bin/hi"), 1U);
    EXPECT_EQ(entries["usr/bin/hi"].type, EntryType::Symlink);
    EXPECT_EQ(entries["usr/bin/hi"].link_target, "../share/hello/hi");
    EXPECT_EQ(entries["usr/share/hello"].type, EntryType::Directory);
    EXPECT_EQ(entries["usr/share/hello/hi"].uname, "root");
    EXPECT_EQ(entries["usr/share/hello/hi"].size, 5U);
    // One of hi/hi2 is a hard link to the other.
    bool linked = entries["usr/share/hello/hi2"].type == EntryType::Hardlink ||
                  entries["usr/share/hello/hi"].type == EntryType::Hardlink;
    EXPECT_TRUE(linked);
    if (z != "none") {
      EXPECT_EQ(reader->data_member_name(), "data.tar." + (z == "gzip"   ? "gz"
                                                           : z == "zstd" ? "zst"
                                                                         : z));
    }
  }
}

// Packs a data.tar made by python3 (`script` adds members to tarfile `t`) into a
// .deb with ar, next to a valid control.tar.gz.
fs::path hostile_deb(const fs::path& dir, const std::string& script) {
  std::string py =
      "import io, tarfile\n"
      "def add(t, name, data=b'', **kw):\n"
      "  i = tarfile.TarInfo(name); i.size = len(data)\n"
      "  for k, v in kw.items(): setattr(i, k, v)\n"
      "  t.addfile(i, io.BytesIO(data))\n"
      "with tarfile.open('control.tar.gz', 'w:gz') as t:\n"
      "  add(t, './control', b'Package: evil\\nVersion: 1\\n')\n"
      "with tarfile.open('data.tar.xz', 'w:xz') as t:\n" +
      script;
  run_ok({test::system_python().string(), "-c", py}, std::nullopt, dir);
  write(dir / "debian-binary", "2.0\n");
  run_ok({"ar", "rc", "evil.deb", "debian-binary", "control.tar.gz", "data.tar.xz"}, std::nullopt,
         dir);
  return dir / "evil.deb";
}

// Issue 11, item 2: a small .deb whose control.tar inflates to 64 MiB (one
// md5sums member of zeros, or many middling members) is refused, naming the
// package and the member, without reading the member whole.
// A .deb whose control.tar.gz holds ./control (`control_text`, Python bytes
// syntax) and then what the Python lines `members` add: add(t, NAME, SIZE)
// adds a member of SIZE zeros, text(t, NAME, BYTES) one of BYTES.
fs::path control_bomb_deb(const fs::path& dir, const std::string& members,
                          const std::string& control_text = "b''") {
  std::string py =
      "import io, tarfile\n"
      "class Zeros(io.RawIOBase):\n"
      "  def __init__(self, n): self.n = n\n"
      "  def readable(self): return True\n"
      "  def readinto(self, b):\n"
      "    k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k\n"
      "def add(t, name, size):\n"
      "  i = tarfile.TarInfo(name); i.size = size\n"
      "  t.addfile(i, Zeros(size))\n"
      "def text(t, name, data):\n"
      "  i = tarfile.TarInfo(name); i.size = len(data)\n"
      "  t.addfile(i, io.BytesIO(data))\n"
      "with tarfile.open('control.tar.gz', 'w:gz') as t:\n"
      "  text(t, './control', " +
      control_text + ")\n" + members +
      "with tarfile.open('data.tar.xz', 'w:xz') as t:\n"
      "  pass\n";
  run_ok({test::system_python().string(), "-c", py}, std::nullopt, dir);
  write(dir / "debian-binary", "2.0\n");
  run_ok({"ar", "rc", "bomb.deb", "debian-binary", "control.tar.gz", "data.tar.xz"}, std::nullopt,
         dir);
  return dir / "bomb.deb";
}

TEST(DebReader, ControlBombIsRefusedNamingThePackage) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  for (const std::string& members :
       {std::string("  add(t, './md5sums', 64 << 20)\n"),
        std::string("  for k in range(8): add(t, './junk%d' % k, 3 << 20)\n")}) {
    auto dir = scratch();
    fs::path deb = control_bomb_deb(dir.path(), members);
    EXPECT_LT(fs::file_size(deb), 1U << 20);
    auto reader = DebReader::open(deb, "bomb_1_amd64");
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    auto control = reader->read_control();
    ASSERT_FALSE(control.ok()) << members;
    EXPECT_EQ(control.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(control.error().message.find("bomb_1_amd64: control.tar.gz: "), std::string::npos)
        << control.error().message;
    EXPECT_NE(control.error().message.find("larger than a control file may be"), std::string::npos)
        << control.error().message;
  }
}

TEST(DebReader, ControlReadingStopsOnceItHasControlAndMd5sums) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  // A member past the bound after control and md5sums is never read...
  auto dir = scratch();
  fs::path deb = control_bomb_deb(dir.path(),
                                  "  text(t, './md5sums', b'0123  usr/x\\n')\n"
                                  "  add(t, './templates', 64 << 20)\n",
                                  "b'Package: x\\n'");
  auto reader = DebReader::open(deb, "late_1_amd64");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto control = reader->read_control();
  ASSERT_TRUE(control.ok()) << control.error().message;
  EXPECT_EQ(control->control, "Package: x\n");
  EXPECT_EQ(control->md5sums, "0123  usr/x\n");

  // ...while the same member before md5sums is refused, and without md5sums
  // the whole control.tar is read.
  for (const std::string& members : {std::string("  add(t, './templates', 64 << 20)\n"
                                                 "  text(t, './md5sums', b'0123  usr/x\\n')\n"),
                                     std::string("  text(t, './postinst', b'#!/bin/sh\\n')\n"
                                                 "  add(t, './templates', 64 << 20)\n")}) {
    auto other = scratch();
    fs::path early = control_bomb_deb(other.path(), members, "b'Package: x\\n'");
    auto refused = DebReader::open(early, "early_1_amd64");
    ASSERT_TRUE(refused.ok()) << refused.error().message;
    auto read = refused->read_control();
    ASSERT_FALSE(read.ok()) << members;
    EXPECT_NE(read.error().message.find("early_1_amd64: control.tar.gz: templates: larger than"),
              std::string::npos)
        << read.error().message;
  }
}

Status read_all_entries(const fs::path& deb) {
  auto reader = DebReader::open(deb, "evil_1_amd64");
  if (!reader.ok()) {
    return reader.error();
  }
  return reader->for_each_data_entry([](const TarEntry&, ContentReader& content) -> Status {
    DISTILL_TRY(std::string ignored, content.read_all());
    return {};
  });
}

TEST(DebReader, RejectsDotDotNamingPackageAndPath) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  auto dir = scratch();
  fs::path deb = hostile_deb(dir.path(), "  add(t, './ok', b'1')\n  add(t, '../x', b'pwned')\n");
  Status status = read_all_entries(deb);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(status.error().message.find("evil_1_amd64"), std::string::npos);
  EXPECT_NE(status.error().message.find("../x"), std::string::npos);
}

TEST(DebReader, RejectsHardLinkToLaterOrOutsideEntry) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  auto dir = scratch();
  fs::path deb =
      hostile_deb(dir.path(), "  add(t, './a', type=tarfile.LNKTYPE, linkname='./etc/shadow')\n");
  Status status = read_all_entries(deb);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("evil_1_amd64: a: hard link to etc/shadow"),
            std::string::npos)
      << status.error().message;
}

TEST(DebReader, RejectsDevicesAndFifos) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  auto dir = scratch();
  fs::path deb = hostile_deb(dir.path(), "  add(t, './dev/null', type=tarfile.CHRTYPE)\n");
  Status status = read_all_entries(deb);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("dev/null: character device"), std::string::npos)
      << status.error().message;
  auto dir2 = scratch();
  deb = hostile_deb(dir2.path(), "  add(t, './p', type=tarfile.FIFOTYPE)\n");
  EXPECT_FALSE(read_all_entries(deb).ok());
}

TEST(DebReader, AbsolutePathsAreNormalised) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  auto dir = scratch();
  fs::path deb = hostile_deb(dir.path(), "  add(t, '/etc/x', b'1')\n");
  auto reader = DebReader::open(deb, "abs");
  ASSERT_TRUE(reader.ok());
  std::vector<std::string> paths;
  ASSERT_TRUE(reader
                  ->for_each_data_entry([&](const TarEntry& e, ContentReader&) -> Status {
                    paths.push_back(e.path);
                    return {};
                  })
                  .ok());
  EXPECT_EQ(paths, std::vector<std::string>{"etc/x"});
}

// The last byte of the check of every block of the xz member `name`.
void damage_xz_checks(std::string& deb, const std::string& name) {
  auto members = parse_ar(deb, "deb");
  ASSERT_TRUE(members.ok());
  for (const ArMember& m : *members) {
    if (m.name != name) {
      continue;
    }
    auto layout = detail::xz_blocks(std::string_view(deb).substr(m.offset, m.size), 1);
    ASSERT_TRUE(layout) << name;
    test::damage_block_checks(deb, m.offset, *layout);
    return;
  }
  FAIL() << name << " not found";
}

// A .deb's xz members are checked unless the reader is told their bytes were
// verified already (Checksums::Skip: a .deb of the content cache): with each
// member's CRC64 damaged, the default reader refuses both members, naming
// the package, and the skipping one reads what dpkg-deb packed.
TEST(DebReader, XzChecksAreSkippedOnlyWhenAsked) {
  if (!have_tools()) {
    GTEST_SKIP() << "dpkg-deb, ar or python3 missing";
  }
  auto dir = scratch();
  auto bytes = util::read_file(build_deb(dir.path(), "xz"));
  ASSERT_TRUE(bytes.ok());
  std::string deb = *bytes;
  damage_xz_checks(deb, "control.tar.xz");
  damage_xz_checks(deb, "data.tar.xz");
  auto read_hi = [](const DebReader& reader) -> Result<std::string> {
    std::string hi;
    DISTILL_CHECK(reader.for_each_data_entry([&](const TarEntry& e, ContentReader& c) -> Status {
      if (e.path == "usr/share/hello/hi") {
        DISTILL_TRY(hi, c.read_all());
      }
      return {};
    }));
    return hi;
  };
  auto checked = DebReader::from_memory(deb, "hello_1.0");
  ASSERT_TRUE(checked.ok());
  auto control = checked->read_control();
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.error().message.find("hello_1.0"), std::string::npos)
      << control.error().message;
  auto data = read_hi(*checked);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("hello_1.0"), std::string::npos) << data.error().message;

  auto trusted = DebReader::from_memory(deb, "hello_1.0", Checksums::Skip);
  ASSERT_TRUE(trusted.ok());
  auto trusted_control = trusted->read_control();
  ASSERT_TRUE(trusted_control.ok()) << trusted_control.error().message;
  EXPECT_NE(trusted_control->control.find("Package: hello\n"), std::string::npos);
  auto hi = read_hi(*trusted);
  ASSERT_TRUE(hi.ok()) << hi.error().message;
  EXPECT_EQ(*hi, "hello");
}

TEST(DebReader, NotADebIsCorrupt) {
  auto dir = scratch();
  write(dir.path() / "x.deb", "garbage");
  auto reader = DebReader::open(dir.path() / "x.deb", "xpkg");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(reader.error().message.find("xpkg"), std::string::npos);
  auto missing = DebReader::open(dir.path() / "missing.deb", "m");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

}  // namespace
}  // namespace distill::archive
