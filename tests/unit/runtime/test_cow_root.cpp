// CowRoot: every view starts from the original, changes never reach it, release
// leaves empty directories; both the overlay and the copy.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "runtime/cow_root.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::runtime {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  auto text = util::read_file(path);
  return text.ok() ? *text : "<" + text.error().message + ">";
}

bool is_empty_dir(const fs::path& path) {
  return fs::is_directory(path) && fs::directory_iterator(path) == fs::directory_iterator();
}

class CowRootTest : public ::testing::TestWithParam<CowRoot::Method> {
 protected:
  void SetUp() override {
    m_dir = std::make_unique<util::TempDir>(*util::TempDir::create("cow-"));
    m_lower = m_dir->path() / "lower";
    m_scratch = m_dir->path() / "scratch";
    m_target = m_dir->path() / "target";
    for (const auto& dir : {m_lower, m_lower / "sub", m_scratch, m_target}) {
      fs::create_directory(dir);
    }
    ASSERT_EQ(::chmod(m_lower.c_str(), 0751), 0);
    ASSERT_TRUE(util::write_file_atomic(m_lower / "a", "one").ok());
    ASSERT_TRUE(util::write_file_atomic(m_lower / "sub" / "b", "bee").ok());
  }

  Result<CowRoot> create() { return CowRoot::create(m_lower, m_scratch, m_target, GetParam()); }

  std::unique_ptr<util::TempDir> m_dir;
  fs::path m_lower, m_scratch, m_target;
};

TEST_P(CowRootTest, ChangesStayInTheViewAndAreDroppedOnRelease) {
  if (GetParam() == CowRoot::Method::Overlay && ::geteuid() != 0) {
    GTEST_SKIP() << "mounting an overlay needs root";
  }
  auto root = create();
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(root->method(), GetParam());
  EXPECT_EQ(read(m_target / "a"), "one");
  struct stat top {};
  ASSERT_EQ(::stat(m_target.c_str(), &top), 0);
  EXPECT_EQ(top.st_mode & 07777, 0751U);  // the view's root looks like the original's

  ASSERT_TRUE(util::write_file_atomic(m_target / "a", "two").ok());
  ASSERT_TRUE(util::write_file_atomic(m_target / "c", "new").ok());
  fs::remove(m_target / "sub" / "b");
  EXPECT_EQ(read(m_target / "a"), "two");
  EXPECT_EQ(read(m_lower / "a"), "one");
  EXPECT_TRUE(fs::exists(m_lower / "sub" / "b"));
  EXPECT_FALSE(fs::exists(m_lower / "c"));

  ASSERT_TRUE(root->release().ok());
  EXPECT_TRUE(is_empty_dir(m_target));
  EXPECT_TRUE(is_empty_dir(m_scratch));
  ASSERT_TRUE(root->release().ok());  // idempotent

  auto again = create();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(read(m_target / "a"), "one");
  EXPECT_EQ(read(m_target / "sub" / "b"), "bee");
  EXPECT_FALSE(fs::exists(m_target / "c"));
}

INSTANTIATE_TEST_SUITE_P(Methods, CowRootTest,
                         ::testing::Values(CowRoot::Method::Overlay, CowRoot::Method::Copy),
                         [](const auto& test_info) {
                           return test_info.param == CowRoot::Method::Overlay ? "Overlay" : "Copy";
                         });

// A refused overlay (here: a path overlayfs options cannot carry) leaves nothing.
TEST(CowRoot, RefusedOverlayLeavesNothingBehind) {
  auto dir = util::TempDir::create("cow-");
  ASSERT_TRUE(dir.ok());
  const fs::path lower = dir->path() / "low,er";
  const fs::path scratch = dir->path() / "scratch";
  const fs::path target = dir->path() / "target";
  for (const auto& path : {lower, scratch, target}) {
    fs::create_directory(path);
  }
  auto root = CowRoot::create(lower, scratch, target, CowRoot::Method::Overlay);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.error().kind, ErrorKind::Unsupported);
  EXPECT_NE(root.error().message.find("low,er"), std::string::npos) << root.error().message;
  EXPECT_TRUE(is_empty_dir(scratch));
  EXPECT_TRUE(is_empty_dir(target));
}

}  // namespace
}  // namespace distill::runtime
