// The spec's files as layer entries (files_layer.hpp): what a copied host
// directory may not bring (whiteout names) and entries that would land inside
// a file or symlink of the same layer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "image/files_layer.hpp"
#include "image/spec.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

class FilesLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-files-layer-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    fs::create_directories(path() / "web" / "css");
    std::ofstream(path() / "web" / "index.html") << "<html>";
    std::ofstream(path() / "web" / "css" / "a.css") << "a{}";
  }
  fs::path path() const { return m_dir->path(); }

  Result<std::vector<GeneratedEntry>> expand(const std::string& text) {
    auto spec = parse_spec(text, path() / "spec.yaml");
    if (!spec.ok()) {
      return spec.error();
    }
    return expand_spec_files(*spec, 0);
  }

  std::unique_ptr<util::TempDir> m_dir;
};

TEST_F(FilesLayerTest, WhiteoutNamesInACopiedDirectoryAreRefused) {
  // An opaque-directory marker would hide everything the base has at dst.
  std::ofstream(path() / "web" / "css" / ".wh..wh..opq") << "";
  auto entries = expand("files:\n  - {src: web, dst: /usr/share/nginx}\n");
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.error().kind, ErrorKind::InvalidInput);
  const std::string& message = entries.error().message;
  EXPECT_EQ(message.rfind((path() / "spec.yaml").string() +
                              ":2: " + (path() / "web" / "css" / ".wh..wh..opq").string() +
                              ": '.wh..wh..opq' is a whiteout name",
                          0),
            0U)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(FilesLayerTest, AnEntryInsideACopiedFileOrSymlinkIsRefused) {
  const std::string spec = (path() / "spec.yaml").string();
  auto entries =
      expand("files:\n  - {src: web, dst: /w}\n  - {dst: /w/index.html/x, content: b}\n");
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.error().message, spec + ":3: /w/index.html/x is inside /w/index.html, which " +
                                         spec + ":2 makes a file");

  fs::create_symlink("/etc", path() / "web" / "lnk");
  entries = expand("files:\n  - {dst: /w/lnk/passwd, content: b}\n  - {src: web, dst: /w}\n");
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.error().message,
            spec + ":2: /w/lnk/passwd is inside /w/lnk, which " + spec + ":3 makes a symlink");
}

TEST_F(FilesLayerTest, ALaterEntryInsideACopiedDirectoryStillWins) {
  // The documented override: a later entry replaces the copied file, and
  // a directory put where the copy had a file may hold entries.
  auto entries = expand(
      "files:\n  - {src: web, dst: /w}\n  - {dst: /w/index.html, type: directory}\n"
      "  - {dst: /w/index.html/x, content: b}\n  - {dst: /w/css/a.css, content: c}\n");
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  std::vector<std::string> paths;
  for (const auto& g : *entries) {
    paths.push_back(g.entry.path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"w", "w/css", "w/css/a.css", "w/index.html",
                                             "w/index.html/x"}));
}

}  // namespace
}  // namespace distill::image
