// answer_summary: a registry's error answer in one short line.
#include <gtest/gtest.h>

#include "oci/answer_summary.hpp"

namespace distill::oci {
namespace {

TEST(AnswerSummary, DistributionErrorsAreCodeAndMessage) {
  EXPECT_EQ(
      answer_summary(
          R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})"),
      "DENIED: requested access to the resource is denied");
  EXPECT_EQ(answer_summary(R"({"errors":[{"code":"A"},{"code":"B","message":"two\nlines"}]})"),
            "A; B: two lines");
}

TEST(AnswerSummary, AnHtmlPageIsItsTextOnOneLine) {
  const std::string page =
      "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
      "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
      "</body>\r\n</html>\r\n";
  EXPECT_EQ(answer_summary(page),
            "413 Request Entity Too Large 413 Request Entity Too Large nginx");
}

TEST(AnswerSummary, LongTextIsCutAndControlCharactersFolded) {
  EXPECT_EQ(answer_summary("a\tb\x1b[31mc\n"), "a b [31mc");
  std::string summary = answer_summary(std::string(1000, 'x'));
  EXPECT_EQ(summary.size(), 203U);
  EXPECT_TRUE(summary.ends_with("..."));
  EXPECT_EQ(answer_summary(""), "");
}

}  // namespace
}  // namespace distill::oci
