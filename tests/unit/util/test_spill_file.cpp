// SpillFile tests (spill_file.hpp): what is written reads back through the
// mapping, several writes append, nothing is left in the directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "util/spill_file.hpp"
#include "util/temp_dir.hpp"

namespace distill::util {
namespace {

TEST(SpillFile, WritesReadBackThroughAMapping) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  const char* old = std::getenv("TMPDIR");
  std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", dir->path().c_str(), 1);
  {
    auto spill = SpillFile::create();
    ASSERT_TRUE(spill.ok()) << spill.error().message;
    auto empty = spill->view();
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
    std::string big(3 << 20, 'x');
    big[12345] = 'y';
    ASSERT_TRUE(spill->write(big.data(), big.size()).ok());
    ASSERT_TRUE(spill->write("tail", 4).ok());
    auto view = spill->view();
    ASSERT_TRUE(view.ok()) << view.error().message;
    ASSERT_EQ(view->size(), big.size() + 4);
    EXPECT_EQ((*view)[12345], 'y');
    EXPECT_EQ(view->substr(big.size()), "tail");
    // Writing after a view maps anew.
    ASSERT_TRUE(spill->write("!", 1).ok());
    EXPECT_EQ(spill->view()->back(), '!');
    SpillFile moved(std::move(*spill));
    EXPECT_EQ(moved.view()->size(), big.size() + 5);
    EXPECT_TRUE(std::filesystem::is_empty(dir->path()));  // unlinked from the start
  }
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
}

TEST(SpillFile, MissingDirectoryIsAnErrorNamingIt) {
  const char* old = std::getenv("TMPDIR");
  std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", "/nonexistent/distill-spill-test", 1);
  auto spill = SpillFile::create();
  ASSERT_FALSE(spill.ok());
  EXPECT_NE(spill.error().message.find("/nonexistent/distill-spill-test"), std::string::npos)
      << spill.error().message;
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
}

}  // namespace
}  // namespace distill::util
