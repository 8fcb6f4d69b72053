// Sealed files: content comes back as written; a file whose content no longer
// hashes to its first line, or that has no digest line, reads as absent and is
// removed; the parent directory is made on write.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/sealed_file.hpp"
#include "crypto/sha256.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::crypto {
namespace {

namespace fs = std::filesystem;

class SealedFileTest : public ::testing::Test {
 protected:
  void SetUp() override { m_dir = std::make_unique<util::TempDir>(*util::TempDir::create()); }
  std::unique_ptr<util::TempDir> m_dir;
};

TEST_F(SealedFileTest, ContentComesBackAsWrittenBehindItsDigest) {
  const fs::path file = m_dir->path() / "made" / "here" / "entry";
  const std::string content = std::string("binary\0bytes\nand lines\n", 23);
  ASSERT_TRUE(write_sealed(file, content).ok());
  EXPECT_EQ(read_sealed(file), content);
  auto text = util::read_file(file);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, sha256(content).str() + "\n" + content);

  ASSERT_TRUE(write_sealed(file, "").ok());
  EXPECT_EQ(read_sealed(file), "");
  EXPECT_FALSE(read_sealed(m_dir->path() / "absent").has_value());
}

TEST_F(SealedFileTest, DamagedOrUnsealedFilesAreAbsentAndRemoved) {
  const fs::path file = m_dir->path() / "entry";
  ASSERT_TRUE(write_sealed(file, "the content").ok());
  auto text = util::read_file(file);
  ASSERT_TRUE(text.ok());
  (*text)[text->size() - 2] ^= 1;
  ASSERT_TRUE(util::write_file_atomic(file, *text).ok());
  EXPECT_FALSE(read_sealed(file).has_value());
  EXPECT_FALSE(fs::exists(file));

  const std::vector<std::string> unsealed{"no digest line", "sha256:abc\nshort digest", "\n",
                                          sha256("x").str() + "x"};
  for (const std::string& bad : unsealed) {
    ASSERT_TRUE(util::write_file_atomic(file, bad).ok());
    EXPECT_FALSE(read_sealed(file).has_value()) << bad;
    EXPECT_FALSE(fs::exists(file)) << bad;
  }
}

}  // namespace
}  // namespace distill::crypto
