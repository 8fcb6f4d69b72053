// unknown_name_error over the real command table: an unknown command or flag
// names the nearest known one; known names give no message.
#include <gtest/gtest.h>

#include "cli/command_table.hpp"
#include "cli/did_you_mean.hpp"

namespace distill::cli {
namespace {

std::string error_for(const std::vector<std::string>& args) {
  CommandTable table = make_command_table();
  return unknown_name_error(*table.app, args);
}

TEST(DidYouMeanTest, UnknownCommandSuggestsTheNearest) {
  EXPECT_EQ(error_for({"biuld", "cc"}), "unknown command 'biuld' (did you mean 'build'?)");
  EXPECT_EQ(error_for({"inspekt", "oci:x"}), "unknown command 'inspekt' (did you mean 'inspect'?)");
  EXPECT_EQ(error_for({"frobnicate"}), "unknown command 'frobnicate'");
  // The hidden man-page writer is never suggested.
  EXPECT_EQ(error_for({"_man", "x"}), "unknown command '_man'");
}

TEST(DidYouMeanTest, UnknownFlagSuggestsTheNearestFlagOfItsCommand) {
  EXPECT_EQ(error_for({"build", "cc", "--varient", "nonroot"}),
            "build: unknown option '--varient' (did you mean '--variant'?)");
  EXPECT_EQ(error_for({"inspect", "oci:x", "--jsn"}),
            "inspect: unknown option '--jsn' (did you mean '--json'?)");
  EXPECT_EQ(error_for({"copy", "a", "b", "--tls-verfy=false"}),
            "copy: unknown option '--tls-verfy' (did you mean '--tls-verify'?)");
  // --variant is build's, not inspect's: nothing near enough there.
  EXPECT_EQ(error_for({"inspect", "oci:x", "--variant"}), "inspect: unknown option '--variant'");
  EXPECT_EQ(error_for({"--verison"}), "unknown option '--verison' (did you mean '--version'?)");
}

TEST(DidYouMeanTest, KnownNamesAndProgramArgumentsGiveNoMessage) {
  EXPECT_EQ(error_for({"build", "cc", "--variant", "nonroot", "--tls-verify=false"}), "");
  EXPECT_EQ(error_for({"run", "oci:x", "--", "--not-distills"}), "");
  EXPECT_EQ(error_for({"build"}), "");  // a missing SPEC: the parser says so
  EXPECT_EQ(error_for({}), "");
}

}  // namespace
}  // namespace distill::cli
