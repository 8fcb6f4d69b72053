// nearest_word: the suggestion behind "did you mean ...?" for subcommands, flags
// and spec keys.
#include <gtest/gtest.h>

#include "util/nearest_word.hpp"

namespace distill::util {
namespace {

TEST(EditDistanceTest, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0U);
  EXPECT_EQ(edit_distance("abc", ""), 3U);
  EXPECT_EQ(edit_distance("", "abc"), 3U);
  EXPECT_EQ(edit_distance("entrypont", "entrypoint"), 1U);  // insertion
  EXPECT_EQ(edit_distance("variant", "varint"), 1U);        // deletion
  EXPECT_EQ(edit_distance("--varient", "--variant"), 1U);   // substitution
  EXPECT_EQ(edit_distance("biuld", "build"), 1U);           // swap of neighbours
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
}

TEST(NearestWordTest, SuggestsTheClosestCandidateWithinTheLimit) {
  std::vector<std::string> keys{"name", "from", "entrypoint", "env", "cmd", "workdir"};
  EXPECT_EQ(nearest_word("entrypont", keys), "entrypoint");
  EXPECT_EQ(nearest_word("workdri", keys), "workdir");
  EXPECT_EQ(nearest_word("fro", keys), "from");
  EXPECT_EQ(nearest_word("emv", keys), "env");

  std::vector<std::string> commands{"build", "lock", "copy", "inspect", "run", "audit"};
  EXPECT_EQ(nearest_word("biuld", commands), "build");
  EXPECT_EQ(nearest_word("inspekt", commands), "inspect");
}

TEST(NearestWordTest, SuggestsNothingForUnrelatedOrIdenticalWords) {
  std::vector<std::string> keys{"name", "from", "entrypoint"};
  EXPECT_EQ(nearest_word("xyz", keys), "");
  EXPECT_EQ(nearest_word("completely-different", keys), "");
  EXPECT_EQ(nearest_word("name", keys), "");  // not a typo
  EXPECT_EQ(nearest_word("ab", {"cd"}), "");
  EXPECT_EQ(nearest_word("anything", {}), "");
}

TEST(NearestWordTest, KeepsTheFirstOfEquallyNearCandidates) {
  EXPECT_EQ(nearest_word("cat", {"bat", "hat"}), "bat");
  EXPECT_EQ(nearest_word("cat", {"hat", "bat"}), "hat");
}

}  // namespace
}  // namespace distill::util
