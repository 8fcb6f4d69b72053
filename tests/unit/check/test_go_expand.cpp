// go_expand: os.Expand's rules, which CST applies to command argv and paths.
#include <gtest/gtest.h>

#include "check/go_expand.hpp"

namespace distill::check {
namespace {

TEST(GoExpand, NamesBracesSpecialsAndUnknowns) {
  const std::map<std::string, std::string> env{
      {"HOME", "/home/nonroot"}, {"JAVA_HOME", "/usr/lib/jvm"}, {"1", "one"}, {"A", "a"}};
  EXPECT_EQ(go_expand("$JAVA_HOME/bin/java", env), "/usr/lib/jvm/bin/java");
  EXPECT_EQ(go_expand("${HOME}x", env),
            "/home/nonroot"
            "x");
  EXPECT_EQ(go_expand("$HOMEx", env), "");  // the name runs on: HOMEx is unset
  EXPECT_EQ(go_expand("$A-$A", env), "a-a");
  EXPECT_EQ(go_expand("$1$2", env), "one");  // one-digit specials
  EXPECT_EQ(go_expand("${1}", env), "one");
  EXPECT_EQ(go_expand("cost $$5", env), "cost 5");  // "$$" is the variable "$"
  EXPECT_EQ(go_expand("a $ b", env), "a $ b");      // '$' before a non-name stays
  EXPECT_EQ(go_expand("end$", env), "end$");
  EXPECT_EQ(go_expand("x${}y", env), "xy");  // bad syntax is dropped
  EXPECT_EQ(go_expand("x${HOME", env), "xHOME");
  EXPECT_EQ(go_expand("${JAVA_HOME:-x}", env), "");  // no shell operators: one odd name
  EXPECT_EQ(go_expand("no dollars", env), "no dollars");
}

}  // namespace
}  // namespace distill::check
