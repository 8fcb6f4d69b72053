// The progress line formats: sizes, rates and the plain completion line.
#include <gtest/gtest.h>

#include "util/progress.hpp"

namespace distill::util {
namespace {

TEST(ProgressFormatTest, BytesInMiBThenGiB) {
  EXPECT_EQ(format_bytes(0), "0.0 MiB");
  EXPECT_EQ(format_bytes(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(format_bytes(3ULL * 1024 * 1024 * 1024 / 2), "1.50 GiB");
}

TEST(ProgressFormatTest, RateIsBytesPerSecondAndEmptyWhenTooShort) {
  EXPECT_EQ(format_rate(10 * 1024 * 1024, 2.0), "5.0 MiB/s");
  EXPECT_EQ(format_rate(10 * 1024 * 1024, 0.01), "");
  EXPECT_EQ(format_rate(0, 3.0), "");
}

TEST(ProgressFormatTest, CompletionLineSaysCountBytesTimeAndRate) {
  EXPECT_EQ(completion_line("downloading", 30, 30, 80 * 1024 * 1024, 8.0),
            "downloading: 30/30 done (80.0 MiB in 8.0 s, 10.0 MiB/s)");
  EXPECT_EQ(completion_line("assembling layers", 3, 3, 0, 0.0),
            "assembling layers: 3/3 done (0.0 MiB in 0.0 s)");
}

}  // namespace
}  // namespace distill::util
