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

TEST(NearestWordTest, ViewsGiveTheSameAnswerAndLengthAloneRulesOutFarWords) {
  // A package index's names, viewed where they are kept.
  const std::string text = "libcurl4 libcurl3-gnutls curl libcurl4-openssl-dev";
  std::vector<std::string_view> names{
      std::string_view(text).substr(0, 8), std::string_view(text).substr(9, 15),
      std::string_view(text).substr(25, 4), std::string_view(text).substr(30)};
  EXPECT_EQ(nearest_name("libcurll4", names), "libcurl4");
  EXPECT_EQ(nearest_name("libcurl4", names), "");  // the name itself: no typo
  EXPECT_EQ(nearest_name("crul", names), "curl");
  EXPECT_EQ(nearest_name("libcurl4-openssl", names), "libcurl4-openssl-dev");  // 4 of 16
  // 14 characters longer than the nearest name: more edits than a third of it.
  EXPECT_EQ(nearest_name("libcurl4-openssl-dev-and-much-more", names), "");
  EXPECT_EQ(nearest_name("x", {}), "");
}

TEST(NearestWordTest, DidYouMeanIsASuffixOrNothing) {
  EXPECT_EQ(did_you_mean("libcurl4"), " (did you mean 'libcurl4'?)");
  EXPECT_EQ(did_you_mean(""), "");
}

}  // namespace
}  // namespace distill::util
