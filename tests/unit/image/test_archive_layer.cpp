// An upstream archive as a layer (archive_layer.hpp): strip, dst, include and
// exclude, owner and modes, containment (devices, hard links, symlinks that
// leave dst), the record the SBOM reads, and the same bytes for the same inputs.
#include <gtest/gtest.h>

#include <map>

#include "archive/byte_sink.hpp"
#include "archive/tar_writer.hpp"
#include "image/archive_layer.hpp"
#include "image/spec.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using archive::EntryType;
using archive::TarEntry;

TarEntry entry(std::string path, EntryType type, uint32_t mode = 0644, std::string target = "") {
  TarEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.uid = 1001;
  e.gid = 1001;
  e.uname = "builder";
  e.mtime = 2000000000;  // after the epoch used below: clamped
  e.link_target = std::move(target);
  return e;
}

struct Member {
  TarEntry entry;
  std::string content;
};

class ArchiveLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-archive-layer-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
  }

  // A plain tar of `members` (the tar reader detects compression; none here).
  fs::path make_tar(const std::vector<Member>& members, const std::string& name = "a.tar") {
    std::string bytes;
    archive::StringSink sink(bytes);
    archive::TarWriter tar(sink);
    for (const auto& m : members) {
      EXPECT_TRUE(tar.add(m.entry, m.content).ok()) << m.entry.path;
    }
    EXPECT_TRUE(tar.finish().ok());
    fs::path file = m_dir->path() / name;
    EXPECT_TRUE(util::write_file_atomic(file, bytes).ok());
    return file;
  }

  std::vector<Member> node_like() {
    return {{entry("node-v1", EntryType::Directory, 0775), ""},
            {entry("node-v1/bin", EntryType::Directory, 0775), ""},
            {entry("node-v1/bin/node", EntryType::File, 0775), "ELF-ish"},
            {entry("node-v1/bin/npm", EntryType::Symlink, 0777, "../lib/npm/cli.js"), ""},
            {entry("node-v1/lib", EntryType::Directory, 0775), ""},
            {entry("node-v1/lib/npm", EntryType::Directory, 0775), ""},
            {entry("node-v1/lib/npm/cli.js", EntryType::File, 0664), "js"},
            {entry("node-v1/include", EntryType::Directory, 0775), ""},
            {entry("node-v1/include/node.h", EntryType::File, 0664), "h"},
            {entry("node-v1/README.md", EntryType::File, 0664), "readme"}};
  }

  ArchiveInput input(const fs::path& file) {
    ArchiveInput in;
    in.name = "node";
    in.version = "1.0";
    in.url = "http://127.0.0.1/node-v1.tar";
    in.sha256 = crypto::sha256("whatever");
    in.file = file;
    return in;
  }

  // path -> entry as unpacked; content in `contents`.
  Result<std::map<std::string, TarEntry>> unpack(const ArchiveInput& in) {
    std::map<std::string, TarEntry> out;
    DISTILL_CHECK(for_each_archive_entry(
        in, k_epoch, [&](const TarEntry& e, archive::ContentReader& content) -> Status {
          DISTILL_TRY(m_contents[e.path], content.read_all());
          out[e.path] = e;
          return {};
        }));
    return out;
  }

  static constexpr int64_t k_epoch = 1700000000;
  std::unique_ptr<util::TempDir> m_dir;
  std::map<std::string, std::string> m_contents;
};

TEST_F(ArchiveLayerTest, StripDstOwnerAndModes) {
  ArchiveInput in = input(make_tar(node_like()));
  in.strip = 1;
  in.dst = "/nodejs";
  in.uid = 65532;
  in.gid = 65533;
  in.dir_mode = 0755;
  auto entries = unpack(in);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->count("nodejs/bin/node"), 1U);
  const TarEntry& node = entries->at("nodejs/bin/node");
  EXPECT_EQ(node.uid, 65532U);
  EXPECT_EQ(node.gid, 65533U);
  EXPECT_TRUE(node.uname.empty());
  EXPECT_EQ(node.mode, 0775U);  // no `mode:`: the archive's
  EXPECT_EQ(node.mtime, k_epoch);
  EXPECT_EQ(m_contents["nodejs/bin/node"], "ELF-ish");
  EXPECT_EQ(entries->at("nodejs/bin").mode, 0755U);  // dir-mode
  EXPECT_EQ(entries->at("nodejs/bin/npm").link_target, "../lib/npm/cli.js");
  EXPECT_EQ(entries->count("nodejs"), 0U);  // the stripped top directory itself
  EXPECT_EQ(entries->count("node-v1/README.md"), 0U);
  EXPECT_EQ(entries->count("nodejs/README.md"), 1U);
}

TEST_F(ArchiveLayerTest, ModeAppliesToFilesOnly) {
  ArchiveInput in = input(make_tar(node_like()));
  in.strip = 1;
  in.mode = 0600;
  auto entries = unpack(in);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  EXPECT_EQ(entries->at("lib/npm/cli.js").mode, 0600U);
  EXPECT_EQ(entries->at("lib/npm").mode, 0775U);
  EXPECT_EQ(entries->at("bin/npm").type, EntryType::Symlink);
}

TEST_F(ArchiveLayerTest, IncludeAndExcludeMatchPathsAndTheirParents) {
  ArchiveInput in = input(make_tar(node_like()));
  in.strip = 1;
  in.include = {"bin", "lib/*"};
  in.exclude = {"lib/npm/*.js"};
  auto entries = unpack(in);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  std::vector<std::string> paths;
  for (const auto& [path, e] : *entries) {
    paths.push_back(path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"bin", "bin/node", "bin/npm", "lib/npm"}));
}

TEST_F(ArchiveLayerTest, SymlinkLeavingDstIsRefused) {
  for (const std::string target : {"../../../etc/passwd", "/etc/passwd", "../.."}) {
    auto members = node_like();
    members.push_back({entry("node-v1/bin/evil", EntryType::Symlink, 0777, target), ""});
    ArchiveInput in = input(make_tar(members));
    in.strip = 1;
    in.dst = "/nodejs";
    auto entries = unpack(in);
    ASSERT_FALSE(entries.ok()) << target;
    EXPECT_EQ(entries.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(entries.error().message.find("archive node 1.0 (http://127.0.0.1/node-v1.tar): "
                                           "node-v1/bin/evil: symlink to " +
                                           target + " points outside /nodejs"),
              std::string::npos)
        << entries.error().message;
  }
}

// A link passing through another symlink of the archive is judged where it
// really leads: d/up -> .. makes d/esc -> up/../../etc reach /etc.
TEST_F(ArchiveLayerTest, SymlinkChainsLeavingDstAreRefused) {
  struct Case {
    std::vector<Member> members;
    std::string refused;  // "" = accepted
  };
  auto dir = [](const std::string& p) -> Member {
    return {entry(p, EntryType::Directory, 0755), ""};
  };
  auto link = [](const std::string& p, const std::string& t) -> Member {
    return {entry(p, EntryType::Symlink, 0777, t), ""};
  };
  std::vector<Case> cases = {
      {{dir("d"), link("d/up", ".."), link("d/esc", "up/../../etc")}, "d/esc"},
      // The link passed through comes later in the archive.
      {{dir("d"), link("d/esc", "up/../../etc"), link("d/up", "..")}, "d/esc"},
      // Through an absolute link, and a chain of two.
      {{link("top", "/opt/t"), link("esc", "top/../../etc")}, "esc"},
      {{dir("a"), link("a/b", "../c"), link("c", "."), link("x", "a/b/../../etc")}, "x"},
      // Leaving dst on the way, even to come back.
      {{dir("d"), link("d/x", "../../../usr/../opt/t/d")}, "d/x"},
      // Kept: chains that stay inside; a loop reaches nothing (ELOOP).
      {{dir("d"), link("d/up", ".."), link("d/ok", "up/d/up/d"), link("lib", "d"),
        link("l2", "lib/up/lib/../d")},
       ""},
      {{link("a", "b"), link("b", "a")}, ""},
  };
  for (const auto& c : cases) {
    ArchiveInput in = input(make_tar(c.members));
    in.dst = "/opt/t";
    auto entries = unpack(in);
    if (c.refused.empty()) {
      EXPECT_TRUE(entries.ok()) << entries.error().message;
      continue;
    }
    ASSERT_FALSE(entries.ok()) << c.refused;
    EXPECT_EQ(entries.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(entries.error().message.find(": " + c.refused + ": symlink to "), std::string::npos)
        << entries.error().message;
    EXPECT_NE(entries.error().message.find("points outside /opt/t"), std::string::npos)
        << entries.error().message;
  }
}

// One path, one entry of one type: tar -x would resolve these by the order
// and by what the disk holds, which a layer cannot reproduce.
TEST_F(ArchiveLayerTest, EntriesBelowALinkOrFileAndDuplicatesAreRefused) {
  auto refused = [&](std::vector<Member> members, const std::string& what) {
    auto entries = unpack(input(make_tar(members)));
    ASSERT_FALSE(entries.ok()) << what;
    EXPECT_EQ(entries.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(entries.error().message.find(what), std::string::npos) << entries.error().message;
  };
  refused({{entry("lnk", EntryType::Symlink, 0777, "."), ""},
           {entry("lnk/file", EntryType::File), "x"}},
          "archive node 1.0 (http://127.0.0.1/node-v1.tar): lnk/file: inside lnk, a symlink of "
          "the archive");
  refused({{entry("f", EntryType::File), "x"}, {entry("f/g", EntryType::File), "y"}},
          "f/g: inside f, a file of the archive");
  refused({{entry("b", EntryType::Directory, 0755), ""}, {entry("b", EntryType::File), "x"}},
          ": b: given twice in the archive");
  refused({{entry("b", EntryType::File), "x"}, {entry("b", EntryType::File), "y"}},
          ": b: given twice in the archive");
  refused({{entry("b/c", EntryType::File), "x"}, {entry("b", EntryType::Symlink, 0777, "d"), ""}},
          ": b: not a directory, but earlier entries are inside it");
  // Two paths that strip to one.
  auto two = make_tar({{entry("x/a", EntryType::File), "1"}, {entry("y/a", EntryType::File), "2"}});
  ArchiveInput in = input(two);
  in.strip = 1;
  auto entries = unpack(in);
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.error().message.find(": y/a: given twice in the archive"), std::string::npos)
      << entries.error().message;
  // A directory after what it holds (as some archivers write them) is fine.
  auto late = unpack(input(
      make_tar({{entry("b/c", EntryType::File), "x"}, {entry("b", EntryType::Directory, 0755), ""}},
               "late.tar")));
  EXPECT_TRUE(late.ok()) << late.error().message;
}

TEST_F(ArchiveLayerTest, WhiteoutAndOverlongNamesAreRefused) {
  for (const std::string name : {".wh.etc", "etc/.wh.passwd", ".wh..wh..opq", "d/.wh..wh..opq"}) {
    auto entries = unpack(input(make_tar({{entry(name, EntryType::File), ""}})));
    ASSERT_FALSE(entries.ok()) << name;
    EXPECT_EQ(entries.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(entries.error().message.find(": " + name + ": '"), std::string::npos)
        << entries.error().message;
    EXPECT_NE(entries.error().message.find("is a whiteout name"), std::string::npos)
        << entries.error().message;
  }
  std::string long_name = "d/" + std::string(256, 'x');
  auto entries = unpack(input(make_tar({{entry(long_name, EntryType::File), ""}})));
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.error().message.find("a name of 256 bytes"), std::string::npos)
      << entries.error().message;
  // Stripped away or left out by the filters: never in the layer, not refused.
  ArchiveInput in = input(make_tar({{entry(".wh.top/a", EntryType::File), "x"},
                                    {entry(".wh.top/.wh.b", EntryType::File), "y"}}));
  in.strip = 1;
  in.exclude = {".wh.b"};
  auto kept = unpack(in);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(kept->size(), 1U);
}

TEST_F(ArchiveLayerTest, AbsoluteSymlinkInsideDstIsKept) {
  auto members = node_like();
  members.push_back({entry("node-v1/bin/abs", EntryType::Symlink, 0777, "/nodejs/bin/node"), ""});
  ArchiveInput in = input(make_tar(members));
  in.strip = 1;
  in.dst = "/nodejs";
  auto entries = unpack(in);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  EXPECT_EQ(entries->at("nodejs/bin/abs").link_target, "/nodejs/bin/node");
}

TEST_F(ArchiveLayerTest, DevicesAndDanglingHardLinksAreRefused) {
  auto devices = node_like();
  devices.push_back({entry("node-v1/null", EntryType::CharDevice, 0666), ""});
  auto result = unpack(input(make_tar(devices, "dev.tar")));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("not allowed in an archive"), std::string::npos)
      << result.error().message;

  auto links = node_like();
  links.push_back({entry("node-v1/link", EntryType::Hardlink, 0644, "node-v1/later"), ""});
  result = unpack(input(make_tar(links, "link.tar")));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("which is not an earlier entry"), std::string::npos)
      << result.error().message;

  // A hard link to a file the filters left out would dangle in the layer.
  auto excluded = node_like();
  excluded.push_back(
      {entry("node-v1/bin/copy", EntryType::Hardlink, 0644, "node-v1/README.md"), ""});
  ArchiveInput in = input(make_tar(excluded, "excluded.tar"));
  in.strip = 1;
  in.exclude = {"README.md"};
  result = unpack(in);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("which is not unpacked"), std::string::npos)
      << result.error().message;
}

TEST_F(ArchiveLayerTest, RecordNamesTheDownload) {
  ArchiveInput in = input(make_tar(node_like()));
  in.dst = "/nodejs";
  std::string record = archive_record(in);
  EXPECT_NE(record.find("\"url\": \"http://127.0.0.1/node-v1.tar\""), std::string::npos);
  EXPECT_NE(record.find("\"sha256\": \"" + in.sha256.hex() + "\""), std::string::npos);
  EXPECT_NE(record.find("\"name\": \"node\""), std::string::npos);
  EXPECT_NE(record.find("\"version\": \"1.0\""), std::string::npos);
  EXPECT_NE(record.find("\"dst\": \"/nodejs\""), std::string::npos);
}

TEST_F(ArchiveLayerTest, SameInputsSameLayer) {
  ArchiveInput in = input(make_tar(node_like()));
  in.strip = 1;
  in.dst = "/nodejs";
  std::vector<std::string> digests;
  for (int i = 0; i < 2; ++i) {
    auto writer = LayerWriter::create(m_dir->path() / ("blobs" + std::to_string(i)),
                                      archive::Compression::Gzip, 1);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(write_archive_layer(**writer, in, k_epoch).ok());
    auto blob = (*writer)->finish();
    ASSERT_TRUE(blob.ok()) << blob.error().message;
    digests.push_back(blob->descriptor.digest.str() + " " + blob->diff_id.str());
  }
  EXPECT_EQ(digests[0], digests[1]);
}

TEST_F(ArchiveLayerTest, ElfFilesForTrace) {
  // Not ELF: nothing to trace; symlinks are listed so soname links resolve.
  ArchiveInput in = input(make_tar(node_like()));
  in.strip = 1;
  in.dst = "/nodejs";
  auto files = archive_elf_files(in, k_epoch);
  ASSERT_TRUE(files.ok()) << files.error().message;
  ASSERT_EQ(files->size(), 1U);
  EXPECT_EQ(files->at(0).file.path, "/nodejs/bin/npm");
  EXPECT_TRUE(files->at(0).file.symlink);
  EXPECT_FALSE(files->at(0).file.elf);
}

}  // namespace
}  // namespace distill::image
