// Unit tests for the deterministic TarWriter (golden digest, cross-checked with
// python3 tarfile and GNU tar) and the libarchive-based tar reader (round trip).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <tuple>

#include "../support/python.hpp"
#include "../support/xz_data.hpp"
#include "archive/byte_sink.hpp"
#include "archive/tar_reader.hpp"
#include "archive/tar_writer.hpp"
#include "archive/xz_block_reader.hpp"
#include "test_support.hpp"
#include "util/file_io.hpp"

namespace distill::archive {
namespace {

using testing::have;
using testing::run_ok;
using testing::scratch;

const std::string k_long_dir = std::string(120, 'd') + "/" + std::string(40, 'e');
const std::string k_very_long = std::string(150, 'x') + "/" + std::string(130, 'y') + ".txt";
const std::string k_long_target = "../" + std::string(110, 't');

TarEntry dir(std::string path, uint32_t mode = 0755) {
  TarEntry e;
  e.path = std::move(path);
  e.type = EntryType::Directory;
  e.mode = mode;
  e.uname = "root";
  e.gname = "root";
  return e;
}

TarEntry file(std::string path, uint32_t mode = 0644) {
  TarEntry e;
  e.path = std::move(path);
  e.mode = mode;
  e.uname = "root";
  e.gname = "root";
  return e;
}

TarEntry link(std::string path, EntryType type, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = 0777;
  e.link_target = std::move(target);
  e.uname = "root";
  e.gname = "root";
  return e;
}

// 3 MiB and a little of a pattern no block repeats: more than one of
// libarchive's blocks, and not a whole number of them.
std::string patterned_bytes() {
  std::string bytes(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>((i * 7919) % 251);
  }
  return bytes;
}

std::string golden_tar() {
  std::string out;
  StringSink sink(out);
  TarWriter writer(sink);
  EXPECT_TRUE(writer.add(dir("etc"), nullptr).ok());
  TarEntry passwd = file("etc/passwd");
  passwd.mtime = 1700000000;
  EXPECT_TRUE(writer.add(passwd, "root:x:0:0:root:/root:/sbin/nologin\n").ok());
  TarEntry tmp = dir("tmp", 01777);
  EXPECT_TRUE(writer.add(tmp, nullptr).ok());
  TarEntry suid = file("usr/bin/su", 04755);
  suid.uid = 65532;
  suid.gid = 65532;
  suid.uname = "nonroot";
  suid.gname = "nonroot";
  EXPECT_TRUE(writer.add(suid, "ELF").ok());
  EXPECT_TRUE(writer.add(link("usr/bin/sh", EntryType::Symlink, "busybox"), nullptr).ok());
  EXPECT_TRUE(writer.add(link("etc/passwd2", EntryType::Hardlink, "etc/passwd"), nullptr).ok());
  EXPECT_TRUE(writer.add(file(k_long_dir), "split prefix").ok());
  EXPECT_TRUE(writer.add(file(k_very_long), std::string(1000, 'z')).ok());
  EXPECT_TRUE(writer.add(link("l", EntryType::Symlink, k_long_target), nullptr).ok());
  TarEntry big_ids = file("ids");
  big_ids.uid = 3000000;
  big_ids.gid = 4000000;
  big_ids.mtime = -1;
  EXPECT_TRUE(writer.add(big_ids, "").ok());
  EXPECT_TRUE(writer.finish().ok());
  return out;
}

// Computed once by this writer and cross-checked below with python3 tarfile and
// GNU tar; a change here means every layer digest changes.
constexpr const char* k_golden_digest =
    "sha256:728b573c99e033f98028191a1157b582c13abd593805f22f000f83c0c78b7b5c";

TEST(TarWriter, GoldenDigest) {
  std::string tar = golden_tar();
  EXPECT_EQ(tar.size() % 512, 0U);
  EXPECT_EQ(crypto::sha256(tar).str(), k_golden_digest);
  EXPECT_EQ(golden_tar(), tar);  // same inputs, same bytes
}

TEST(TarWriter, PythonTarfileReadsEverything) {
  if (!have("python3")) {
    GTEST_SKIP() << "python3 missing";
  }
  auto dir_ = scratch();
  auto path = dir_.path() / "golden.tar";
  ASSERT_TRUE(util::write_file_atomic(path, golden_tar()).ok());
  std::string listing = run_ok(
      {test::system_python().string(), "-c",
       "import sys, tarfile\n"
       "for m in tarfile.open(sys.argv[1]):\n"
       "  print(m.name, m.type.decode(), oct(m.mode), m.uid, m.gid, m.uname, m.gname, int(m.mtime),"
       " m.size, m.linkname)\n",
       path.string()});
  std::string expected =
      "etc 5 0o755 0 0 root root 0 0 \n"
      "etc/passwd 0 0o644 0 0 root root 1700000000 36 \n"
      "tmp 5 0o1777 0 0 root root 0 0 \n"
      "usr/bin/su 0 0o4755 65532 65532 nonroot nonroot 0 3 \n"
      "usr/bin/sh 2 0o777 0 0 root root 0 0 busybox\n"
      "etc/passwd2 1 0o777 0 0 root root 0 0 etc/passwd\n" +
      k_long_dir + " 0 0o644 0 0 root root 0 12 \n" + k_very_long +
      " 0 0o644 0 0 root root 0 1000 \n"
      "l 2 0o777 0 0 root root 0 0 " +
      k_long_target +
      "\n"
      "ids 0 0o644 3000000 4000000 root root -1 0 \n";
  EXPECT_EQ(listing, expected);
}

TEST(TarWriter, GnuTarExtractsContent) {
  if (!have("tar")) {
    GTEST_SKIP() << "tar missing";
  }
  auto dir_ = scratch();
  auto path = dir_.path() / "golden.tar";
  ASSERT_TRUE(util::write_file_atomic(path, golden_tar()).ok());
  std::string content = run_ok({"tar", "-xOf", path.string(), k_very_long});
  EXPECT_EQ(content, std::string(1000, 'z'));
  std::string listing = run_ok({"tar", "-tf", path.string()});
  EXPECT_NE(listing.find("etc/\n"), std::string::npos);
  EXPECT_EQ(listing.find("PaxHeaders"), std::string::npos);
}

TEST(TarWriter, ShortContentIsAnError) {
  std::string out;
  StringSink sink(out);
  TarWriter writer(sink);
  TarEntry e = file("a");
  e.size = 10;
  MemoryContentReader content("short");
  Status status = writer.add(e, &content);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("a: content ended"), std::string::npos);
}

TEST(TarWriter, EmptyPathIsRejected) {
  std::string out;
  StringSink sink(out);
  TarWriter writer(sink);
  EXPECT_FALSE(writer.add(file(""), "x").ok());
}

TEST(TarRoundTrip, ReaderGivesBackWhatWriterWrote) {
  std::string tar = golden_tar();
  std::vector<TarEntry> entries;
  std::map<std::string, std::string> contents;
  Status status = for_each_tar_entry(
      std::string_view(tar),
      [&](const TarEntry& entry, ContentReader& content) -> Status {
        entries.push_back(entry);
        DISTILL_TRY(contents[entry.path], content.read_all());
        return {};
      },
      "golden.tar");
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(entries.size(), 10U);
  EXPECT_EQ(entries[0].path, "etc");
  EXPECT_EQ(entries[0].type, EntryType::Directory);
  EXPECT_EQ(entries[1].path, "etc/passwd");
  EXPECT_EQ(entries[1].mtime, 1700000000);
  EXPECT_EQ(entries[1].size, 36U);
  EXPECT_EQ(contents["etc/passwd"], "root:x:0:0:root:/root:/sbin/nologin\n");
  EXPECT_EQ(entries[2].mode, 01777U);
  EXPECT_EQ(entries[3].mode, 04755U);
  EXPECT_EQ(entries[3].uid, 65532U);
  EXPECT_EQ(entries[3].uname, "nonroot");
  EXPECT_EQ(entries[4].type, EntryType::Symlink);
  EXPECT_EQ(entries[4].link_target, "busybox");
  EXPECT_EQ(entries[5].type, EntryType::Hardlink);
  EXPECT_EQ(entries[5].link_target, "etc/passwd");
  EXPECT_EQ(entries[6].path, k_long_dir);
  EXPECT_EQ(contents[k_long_dir], "split prefix");
  EXPECT_EQ(entries[7].path, k_very_long);
  EXPECT_EQ(contents[k_very_long], std::string(1000, 'z'));
  EXPECT_EQ(entries[8].link_target, k_long_target);
  EXPECT_EQ(entries[9].uid, 3000000U);
  EXPECT_EQ(entries[9].gid, 4000000U);
  EXPECT_EQ(entries[9].mtime, -1);
}

TEST(TarRoundTrip, FileReaderHandlesCompressedTarAndStreamedContent) {
  if (!have("gzip")) {
    GTEST_SKIP() << "gzip missing";
  }
  auto dir_ = scratch();
  auto path = dir_.path() / "t.tar";
  const std::string big = patterned_bytes();
  {
    std::string out;
    StringSink sink(out);
    TarWriter writer(sink);
    TarEntry e = file("./big.bin");  // the writer keeps what it is given
    e.path = "big.bin";
    e.size = big.size();
    MemoryContentReader content(big);
    ASSERT_TRUE(writer.add(e, &content).ok());
    ASSERT_TRUE(writer.finish().ok());
    ASSERT_TRUE(util::write_file_atomic(path, out).ok());
  }
  run_ok({"gzip", "-n", path.string()});
  std::string read_back;
  Status status = for_each_tar_entry(
      std::filesystem::path(path.string() + ".gz"),
      [&](const TarEntry& entry, ContentReader& content) -> Status {
        EXPECT_EQ(entry.path, "big.bin");
        DISTILL_TRY(read_back, content.read_all());
        return {};
      },
      "t.tar.gz");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read_back, big);
}

TEST(TarReader, PathsAreNormalisedAndRootSkipped) {
  if (!have("python3")) {
    GTEST_SKIP() << "python3 missing";
  }
  std::string tar =
      run_ok({test::system_python().string(), "-c",
              "import io, sys, tarfile\n"
              "b = io.BytesIO()\n"
              "t = tarfile.open(fileobj=b, mode='w', format=tarfile.GNU_FORMAT)\n"
              "for n in ['./', './usr/', '/etc//x/', './a/./b']:\n"
              "  i = tarfile.TarInfo(n); i.type = tarfile.DIRTYPE; t.addfile(i)\n"
              "i = tarfile.TarInfo('./' + 'g' * 200); i.size = 1; t.addfile(i, io.BytesIO(b'G'))\n"
              "t.close(); sys.stdout.buffer.write(b.getvalue())\n"});
  std::vector<std::string> paths;
  Status status = for_each_tar_entry(
      std::string_view(tar),
      [&](const TarEntry& entry, ContentReader&) -> Status {
        paths.push_back(entry.path);
        return {};
      },
      "gnu.tar");
  ASSERT_TRUE(status.ok()) << status.error().message;
  std::vector<std::string> expected = {"usr", "etc/x", "a/b", std::string(200, 'g')};
  EXPECT_EQ(paths, expected);
}

TEST(TarReader, UntilStopsWhereTheCallbackSaysAndReadsNoFurther) {
  std::string tar = golden_tar();
  std::vector<std::string> paths;
  auto stop_at_passwd = [&](const TarEntry& entry, ContentReader&) -> Result<TarNext> {
    paths.push_back(entry.path);
    return entry.path == "etc/passwd" ? TarNext::Stop : TarNext::Continue;
  };
  Status status = for_each_tar_entry_until(std::string_view(tar), stop_at_passwd, "golden.tar");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(paths, (std::vector<std::string>{"etc", "etc/passwd"}));

  // What follows the stop is not read: garbage there is not seen...
  const size_t kept = size_t{3} * 512;  // etc, etc/passwd and its content
  std::string damaged = tar.substr(0, kept) + std::string(tar.size() - kept, 'q');
  paths.clear();
  status = for_each_tar_entry_until(std::string_view(damaged), stop_at_passwd, "damaged.tar");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(paths.size(), 2U);
  // ...while reading to the end finds it and names the tar.
  status = for_each_tar_entry(
      std::string_view(damaged), [](const TarEntry&, ContentReader&) -> Status { return {}; },
      "damaged.tar");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("damaged.tar"), std::string::npos);

  // The callback's error ends the reading with that error.
  status = for_each_tar_entry_until(
      std::string_view(tar),
      [](const TarEntry& entry, ContentReader&) -> Result<TarNext> {
        return make_error(ErrorKind::InvalidInput, "no thanks: " + entry.path);
      },
      "golden.tar");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "no thanks: etc");
}

TEST(TarReader, GarbageIsCorruptAndNamesOrigin) {
  std::string garbage(2048, 'q');
  Status status = for_each_tar_entry(
      std::string_view(garbage), [](const TarEntry&, ContentReader&) -> Status { return {}; },
      "junk.tar");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("junk.tar"), std::string::npos);
}

TEST(NormalizePath, Cases) {
  EXPECT_EQ(*normalize_path("./usr/bin/", "o"), "usr/bin");
  EXPECT_EQ(*normalize_path("/usr//lib/./x", "o"), "usr/lib/x");
  EXPECT_EQ(*normalize_path("a..b/..c", "o"), "a..b/..c");
  auto escape = normalize_path("./usr/../../etc", "pkg");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(escape.error().message, "pkg: path escapes the root: ./usr/../../etc");
  EXPECT_FALSE(normalize_path("./", "o").ok());
  EXPECT_FALSE(normalize_path("", "o").ok());
}

}  // namespace
}  // namespace distill::archive

namespace distill::archive {
namespace {

// A tar of `count` files f0, f1, ... of `size` + i bytes each, in a pattern
// that does not repeat within a compressor's block; `files` gets what each
// holds.
std::string patterned_tar(int count, size_t size, std::map<std::string, std::string>& files) {
  std::string tar;
  StringSink sink(tar);
  TarWriter writer(sink);
  for (int i = 0; i < count; ++i) {
    std::string name = "f" + std::to_string(i);
    std::string content(size + i, static_cast<char>('a' + i % 26));
    for (size_t k = 0; k < content.size(); k += 97) {
      content[k] = static_cast<char>(k * 31 + i);
    }
    EXPECT_TRUE(writer.add(file(name), content).ok());
    files[name] = content;
  }
  EXPECT_TRUE(writer.finish().ok());
  return tar;
}

// An .xz tar of several blocks (as dpkg-deb writes big packages): every entry
// and byte comes back, in order; a damaged or cut stream is a Corrupt error
// naming the origin. The thread's decoder, reused from one file to the next,
// decodes correctly after a damaged file, and a file read while another is
// being read (the thread's decoder busy) gets a decoder of its own.
TEST(TarReader, MultiBlockXzReadsEveryEntryAndReportsDamage) {
  if (!testing::have("xz")) {
    GTEST_SKIP() << "xz missing";
  }
  std::map<std::string, std::string> files;
  const std::string tar = patterned_tar(24, 200000, files);
  ASSERT_FALSE(HasFailure());
  std::string xz = testing::run_ok({"xz", "-c", "-T2", "--block-size=1MiB"}, tar);
  auto dir = testing::scratch();
  ASSERT_TRUE(util::write_file_atomic(dir.path() / "t.tar.xz", xz).ok());
  std::string listing =
      testing::run_ok({"xz", "--robot", "-lv", (dir.path() / "t.tar.xz").string()});
  EXPECT_NE(listing.find("\nblock\t1\t2\t"), std::string::npos) << listing;  // a second block

  std::map<std::string, std::string> read;
  auto status = for_each_tar_entry(
      std::string_view(xz),
      [&](const TarEntry& e, ContentReader& content) -> Status {
        DISTILL_TRY(read[e.path], content.read_all());
        return {};
      },
      "blocks.tar.xz");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(read == files);

  for (std::string bad : {xz.substr(0, xz.size() / 2), xz}) {
    if (bad.size() == xz.size()) {
      bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x55);
    }
    auto damaged = for_each_tar_entry(
        std::string_view(bad),
        [](const TarEntry&, ContentReader& content) -> Status {
          auto all = content.read_all();
          return all.ok() ? Status() : Status(all.error());
        },
        "blocks.tar.xz");
    ASSERT_FALSE(damaged.ok());
    EXPECT_NE(damaged.error().message.find("blocks.tar.xz"), std::string::npos)
        << damaged.error().message;
  }

  std::string small_tar;
  StringSink small_sink(small_tar);
  TarWriter small_writer(small_sink);
  ASSERT_TRUE(small_writer.add(file("inner"), "inner bytes").ok());
  ASSERT_TRUE(small_writer.finish().ok());
  std::string small_xz = testing::run_ok({"xz", "-c"}, small_tar);
  std::map<std::string, std::string> again;
  std::string inner;
  status = for_each_tar_entry(
      std::string_view(xz),
      [&](const TarEntry& e, ContentReader& content) -> Status {
        if (e.path == "f3") {  // another .xz read in the middle of this one
          DISTILL_CHECK(for_each_tar_entry(
              std::string_view(small_xz),
              [&](const TarEntry&, ContentReader& c) -> Status {
                DISTILL_TRY(inner, c.read_all());
                return {};
              },
              "inner.tar.xz"));
        }
        DISTILL_TRY(again[e.path], content.read_all());
        return {};
      },
      "blocks.tar.xz");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(again == files);
  EXPECT_EQ(inner, "inner bytes");
}

// An xz tar's block checks are computed unless the caller says it verified
// the bytes already (Checksums::Skip: a .deb of the content cache). With the
// CRC64 of every block damaged, Verify is an error naming the origin and Skip
// reads every entry back, whichever decoder takes the stream: one block, as
// many blocks as the block reader takes, or a stream with padding after it,
// left to liblzma's stream decoder.
TEST(TarReader, XzChecksAreComputedUnlessTheCallerSkipsThem) {
  std::map<std::string, std::string> files;
  const std::string tar = patterned_tar(6, 100000, files);
  ASSERT_FALSE(HasFailure());
  const std::string one = test::xz_of(tar, 6);
  const std::string several = test::xz_blocks_of(tar, 64 << 10);
  const std::string padding(4, '\0');
  for (const auto& [label, xz, padded] :
       {std::tuple<std::string, std::string, bool>{"one block", one, false},
        {"several blocks", several, false},
        {"padded", one + padding, true}}) {
    auto layout = detail::xz_blocks(padded ? one : xz, 1);
    ASSERT_TRUE(layout) << label;
    if (label == "several blocks") {
      ASSERT_GE(layout->blocks.size(), detail::XzBlockReader::k_min_blocks);
    }
    std::string bad = xz;
    test::damage_block_checks(bad, 0, *layout);
    auto read = [&](Checksums checksums) -> Result<std::map<std::string, std::string>> {
      std::map<std::string, std::string> out;
      DISTILL_CHECK(for_each_tar_entry(
          std::string_view(bad),
          [&](const TarEntry& e, ContentReader& content) -> Status {
            DISTILL_TRY(out[e.path], content.read_all());
            return {};
          },
          "checked.tar.xz", false, checksums));
      return out;
    };
    auto verified = read(Checksums::Verify);
    ASSERT_FALSE(verified.ok()) << label;
    EXPECT_NE(verified.error().message.find("checked.tar.xz"), std::string::npos)
        << label << ": " << verified.error().message;
    auto skipped = read(Checksums::Skip);
    ASSERT_TRUE(skipped.ok()) << label << ": " << skipped.error().message;
    EXPECT_TRUE(*skipped == files) << label;
  }
}

// Reads everything through read_view and read in turn, at uneven sizes.
Result<std::string> read_mixed(ContentReader& content, size_t& views_in_place) {
  std::string out;
  std::vector<char> buffer(1U << 20);
  const size_t sizes[] = {1000, 777, 1U << 20, 4096};
  for (size_t i = 0;; ++i) {
    size_t want = sizes[i % 4];
    if (i % 2 == 1) {
      DISTILL_TRY(size_t n, content.read(buffer.data(), want));
      if (n == 0) {
        return out;
      }
      out.append(buffer.data(), n);
      continue;
    }
    DISTILL_TRY(std::string_view got, content.read_view(buffer.data(), want));
    if (got.empty()) {
      return out;
    }
    EXPECT_LE(got.size(), want);
    if (got.data() != buffer.data()) {
      ++views_in_place;
    }
    out.append(got);
  }
}

// Decoders are kept from one .xz tar to the next: one read inside another's
// callback gets its own, and after they are released new ones are made.
TEST(TarReader, XzTarsReadNestedAndAfterTheKeptDecodersAreReleased) {
  if (!testing::have("xz")) {
    GTEST_SKIP() << "xz missing";
  }
  const std::string xz = testing::run_ok({"xz", "-c"}, golden_tar());
  auto paths = [&](const std::function<void(const TarEntry&)>& inside) {
    std::vector<std::string> out;
    Status status = for_each_tar_entry(
        std::string_view(xz),
        [&](const TarEntry& entry, ContentReader& /*content*/) -> Status {
          out.push_back(entry.path);
          inside(entry);
          return {};
        },
        "golden.tar.xz");
    EXPECT_TRUE(status.ok()) << status.error().message;
    return out;
  };
  const auto expected = paths([](const TarEntry&) {});
  ASSERT_EQ(expected.size(), 10U);
  std::vector<std::string> nested;
  EXPECT_EQ(paths([&](const TarEntry& entry) {
              if (entry.path == "etc/passwd") {
                nested = paths([](const TarEntry&) {});
              }
            }),
            expected);
  EXPECT_EQ(nested, expected);
  release_kept_decoders();
  EXPECT_EQ(paths([](const TarEntry&) {}), expected);
}

TEST(TarReader, ViewsAndReadsGiveTheSameBytes) {
  const std::string big = patterned_bytes();
  std::string tar;
  StringSink sink(tar);
  TarWriter writer(sink);
  TarEntry e = file("big.bin");
  e.size = big.size();
  MemoryContentReader source(big);
  ASSERT_TRUE(writer.add(e, &source).ok());
  ASSERT_TRUE(writer.add(file("small"), "after it").ok());
  ASSERT_TRUE(writer.finish().ok());
  std::vector<std::pair<std::string_view, std::string>> inputs = {{"plain", tar}};
  if (have("xz")) {
    inputs.emplace_back("xz", run_ok({"xz", "-c"}, tar));
  }
  for (const auto& [label, data] : inputs) {
    std::map<std::string, std::string> got;
    size_t in_place = 0;
    Status status = for_each_tar_entry(
        std::string_view(data),
        [&](const TarEntry& entry, ContentReader& content) -> Status {
          DISTILL_TRY(got[entry.path], read_mixed(content, in_place));
          return {};
        },
        "mixed.tar");
    ASSERT_TRUE(status.ok()) << label << ": " << status.error().message;
    EXPECT_TRUE(got["big.bin"] == big) << label;
    EXPECT_EQ(got["small"], "after it") << label;
    // The archive's own blocks were seen, not copied.
    EXPECT_GT(in_place, 0U) << label;
  }
  // A reader over memory views it too.
  MemoryContentReader memory(big);
  size_t in_place = 0;
  auto all = read_mixed(memory, in_place);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(*all == big);
  EXPECT_GT(in_place, 0U);
}

// GNU tar's sparse files: the holes between the data read as zeros, by view
// as by read().
TEST(TarReader, SparseHolesReadAsZeros) {
  if (!have("tar")) {
    GTEST_SKIP() << "tar missing";
  }
  auto dir_ = scratch();
  const auto file_path = dir_.path() / "sparse.bin";
  std::string expected(3 * 1024 * 1024, '\0');
  {
    util::Fd fd(::open(file_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    ASSERT_TRUE(fd.valid());
    for (off_t at : {off_t{4096}, off_t{1536 * 1024}}) {
      std::string data(10000, static_cast<char>('a' + at % 7));
      ASSERT_EQ(::pwrite(fd.get(), data.data(), data.size(), at),
                static_cast<ssize_t>(data.size()));
      expected.replace(static_cast<size_t>(at), data.size(), data);
    }
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(expected.size())), 0);  // a hole at the end
  }
  run_ok({"tar", "--sparse", "--format=gnu", "-cf", "sparse.tar", "sparse.bin"}, std::nullopt,
         dir_.path());
  auto tar = util::read_file(dir_.path() / "sparse.tar");
  ASSERT_TRUE(tar.ok());
  for (bool by_view : {true, false}) {
    std::string got;
    size_t in_place = 0;
    Status status = for_each_tar_entry(
        std::string_view(*tar),
        [&](const TarEntry& entry, ContentReader& content) -> Status {
          EXPECT_EQ(entry.size, expected.size());
          if (by_view) {
            DISTILL_TRY(got, read_mixed(content, in_place));
          } else {
            DISTILL_TRY(got, content.read_all());
          }
          return {};
        },
        "sparse.tar");
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(got.size(), expected.size()) << by_view;
    EXPECT_TRUE(got == expected) << by_view;
  }
}

}  // namespace
}  // namespace distill::archive
