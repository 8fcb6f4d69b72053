// mount_table: which mount points /proc/self/mountinfo puts inside a directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/mount_table.hpp"

namespace distill::util {
namespace {

namespace fs = std::filesystem;

// Lines in mountinfo's shape (proc(5)); only the fifth field matters here.
const char* const k_table =
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "35 22 0:30 / /distill-mt rw,relatime shared:2 - tmpfs tmpfs rw\n"
    "36 35 0:31 / /distill-mt/distill-test-aB3/bundle/rootfs rw - overlay overlay rw,lowerdir=x\n"
    "37 35 0:32 / /distill-mt/distill-test-aB3/bundle/rootfs/proc rw - proc proc rw\n"
    "38 35 0:33 / /distill-mt/distill-test-aB3x/m rw - tmpfs tmpfs rw\n"
    "39 35 0:34 / /distill-mt/distill-test-aB3/with\\040space rw - tmpfs tmpfs rw\n"
    "40 35 0:35 / /distill-mt/distill-test-aB3 rw - tmpfs tmpfs rw\n"
    "short line\n";

TEST(MountTable, PointsInsideADirectoryDeepestFirst) {
  const auto found = mount_points_below("/distill-mt/distill-test-aB3", k_table);
  const std::vector<fs::path> expected = {
      "/distill-mt/distill-test-aB3/bundle/rootfs/proc",
      "/distill-mt/distill-test-aB3/bundle/rootfs",
      "/distill-mt/distill-test-aB3/with space",
  };
  EXPECT_EQ(found, expected);  // not the directory itself, nor a sibling sharing its prefix
}

TEST(MountTable, TrailingSlashAndNothingInside) {
  EXPECT_EQ(mount_points_below("/distill-mt/distill-test-aB3x/", k_table),
            std::vector<fs::path>{"/distill-mt/distill-test-aB3x/m"});
  EXPECT_TRUE(mount_points_below("/distill-mt/none", k_table).empty());
  EXPECT_TRUE(mount_points_below("/distill-mt/none", "").empty());
}

TEST(MountTable, OctalEscapesDecoded) {
  EXPECT_EQ(unescape_mount_field("a\\040b\\011c\\012d\\134e"), "a b\tc\nd\\e");
  EXPECT_EQ(unescape_mount_field("end\\04"), "end\\04");  // cut short: kept as it is
  EXPECT_EQ(unescape_mount_field("\\999"), "\\999");
  EXPECT_EQ(unescape_mount_field(""), "");
}

}  // namespace
}  // namespace distill::util
