// Tests for the debug variants' busybox layer (image/busybox_layer.hpp) on
// busybox-static .debs built here with dpkg-deb around a synthetic binary: one
// link per applet of the binary's table (none for `busybox` itself), the binary
// at busybox/busybox, and a status.d entry whose md5sums lists exactly that file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "archive/tar_reader.hpp"
#include "crypto/sha256.hpp"
#include "image/busybox_layer.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

constexpr int64_t k_epoch = 1700000000;

std::string table(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += name + '\0';
  }
  return out;
}

// A fake static busybox: ELF magic, some strings, the applet table, more bytes.
std::string fake_binary(const std::vector<std::string>& applets) {
  return "\x7f"
         "ELF\x02\x01\x01\0"s +
         "usage: %s\0\x90\x91"s + table(applets) + "\0\xc3 tail"s;
}

struct Layer {
  std::map<std::string, archive::TarEntry> entries;
  std::map<std::string, std::string> contents;
};

class BusyboxLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (util::find_program("dpkg-deb").empty()) {
      GTEST_SKIP() << "dpkg-deb missing";
    }
    auto dir = util::TempDir::create("distill-busybox-layer-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
  }

  // busybox-static_1:1.35.0-4_amd64.deb holding `files` (path -> content).
  InstalledPackage make_package(const std::map<std::string, std::string>& files) {
    fs::path root = m_dir->path() / "pkg";
    fs::remove_all(root);
    fs::create_directories(root / "DEBIAN");
    EXPECT_TRUE(util::write_file_atomic(root / "DEBIAN/control", k_control).ok());
    EXPECT_TRUE(
        util::write_file_atomic(root / "DEBIAN/md5sums", "0123  bin/busybox\n0456  usr/x\n").ok());
    for (const auto& [path, content] : files) {
      fs::create_directories((root / path).parent_path());
      EXPECT_TRUE(util::write_file_atomic(root / path, content, 0755).ok());
    }
    fs::path deb = m_dir->path() / "busybox-static.deb";
    auto built = util::run_command(
        {{"dpkg-deb", "--root-owner-group", "-Zxz", "--build", root.string(), deb.string()}});
    EXPECT_TRUE(built.ok() && built->exit_code == 0);
    InstalledPackage package;
    package.name = "busybox-static";
    package.version = "1:1.35.0-4";
    package.arch = "amd64";
    package.deb_file = deb;
    return package;
  }

  Result<Layer> write_layer(const InstalledPackage& package) {
    DISTILL_TRY(auto writer,
                LayerWriter::create(m_dir->path() / "blobs", archive::Compression::Gzip, 1));
    DISTILL_CHECK(write_busybox_layer(*writer, package, k_epoch));
    DISTILL_TRY(oci::LayerBlob blob, writer->finish());
    Layer layer;
    DISTILL_CHECK(archive::for_each_tar_entry(
        blob.file,
        [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
          layer.entries[entry.path] = entry;
          DISTILL_TRY(layer.contents[entry.path], content.read_all());
          return {};
        },
        "layer"));
    return layer;
  }

  static constexpr const char* k_control =
      "Package: busybox-static\nVersion: 1:1.35.0-4\nArchitecture: amd64\n"
      "Maintainer: t <t@example.org>\nDescription: test busybox\n";
  std::unique_ptr<util::TempDir> m_dir;
};

TEST_F(BusyboxLayerTest, LinksEveryAppletOfTheBinaryAndDescribesTheImageFiles) {
  const std::vector<std::string> applets = {"[",  "[[",        "ash", "busybox",    "cat", "ls",
                                            "nc", "run-parts", "sh",  "ssl_client", "zcat"};
  const std::string binary = fake_binary(applets);
  auto layer = write_layer(make_package({{"bin/busybox", binary}, {"usr/x", "doc"}}));
  ASSERT_TRUE(layer.ok()) << layer.error().message;

  const auto& bin = layer->entries.at("busybox/busybox");
  EXPECT_EQ(bin.type, archive::EntryType::File);
  EXPECT_EQ(bin.mode & 07777, 0755u);
  EXPECT_EQ(layer->contents.at("busybox/busybox"), binary);

  std::vector<std::string> links;
  for (const auto& [path, entry] : layer->entries) {
    if (entry.type == archive::EntryType::Symlink) {
      EXPECT_EQ(path.rfind("busybox/", 0), 0u) << path;
      EXPECT_EQ(entry.link_target, "busybox") << path;
      links.push_back(path.substr(8));
    }
  }
  std::vector<std::string> expected = applets;
  expected.erase(std::find(expected.begin(), expected.end(), "busybox"));
  EXPECT_EQ(links, expected);
  EXPECT_EQ(layer->entries.count("bin/busybox"), 0u);
  EXPECT_EQ(layer->entries.count("usr/x"), 0u);

  EXPECT_EQ(layer->contents.at("var/lib/dpkg/status.d/busybox-static"), k_control);
  // Exactly the image's file, under its image path, with its real md5 (not the
  // package's bin/busybox line, nor usr/x which the layer does not hold).
  EXPECT_EQ(layer->contents.at("var/lib/dpkg/status.d/busybox-static.md5sums"),
            crypto::md5_hex(binary) + "  busybox/busybox\n");
  EXPECT_EQ(busybox_md5sums(binary), crypto::md5_hex(binary) + "  busybox/busybox\n");
}

TEST_F(BusyboxLayerTest, Debian13sMergedUsrBinaryIsFoundInUsrBin) {
  const std::string binary =
      fake_binary({"[", "[[", "ash", "busybox", "cat", "ls", "nc", "run-parts", "sh", "zcat"});
  auto layer = write_layer(make_package({{"usr/bin/busybox", binary}}));
  ASSERT_TRUE(layer.ok()) << layer.error().message;
  EXPECT_EQ(layer->contents.at("busybox/busybox"), binary);
  EXPECT_EQ(layer->entries.at("busybox/sh").link_target, "busybox");
  EXPECT_EQ(layer->entries.count("usr/bin/busybox"), 0u);
}

TEST_F(BusyboxLayerTest, TheSameDebGivesTheSameLayer) {
  auto package =
      make_package({{"bin/busybox", fake_binary({"a", "b", "c", "d", "e", "f", "sh", "z"})}});
  auto first = write_layer(package);
  auto second = write_layer(package);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->contents, second->contents);
  // busybox/ and var/lib/dpkg/status.d's 4 directories, the binary, 8 links, 2 status files.
  EXPECT_EQ(first->entries.size(), 5u + 1 + 8 + 2);
}

TEST_F(BusyboxLayerTest, ABinaryWithoutAnAppletTableOrShIsAnError) {
  auto no_table = write_layer(make_package({{"bin/busybox",
                                             "\x7f"
                                             "ELF just bytes"s}}));
  ASSERT_FALSE(no_table.ok());
  EXPECT_NE(no_table.error().message.find("busybox-static 1:1.35.0-4: bin/busybox: no busybox "
                                          "applet table"),
            std::string::npos)
      << no_table.error().message;

  auto no_sh = write_layer(
      make_package({{"bin/busybox", fake_binary({"a", "b", "c", "d", "e", "f", "g", "h"})}}));
  ASSERT_FALSE(no_sh.ok());
  EXPECT_NE(no_sh.error().message.find("no sh applet"), std::string::npos) << no_sh.error().message;

  auto no_binary = write_layer(make_package({{"usr/bin/other", "x"}}));
  ASSERT_FALSE(no_binary.ok());
  EXPECT_NE(no_binary.error().message.find(
                "busybox-static: no bin/busybox or usr/bin/busybox in the package"),
            std::string::npos)
      << no_binary.error().message;
}

}  // namespace
}  // namespace distill::image
