// The containment rules shared by .debs and upstream archives, and the lexical
// symlink resolution audit and the archive layers use.
#include <gtest/gtest.h>

#include "archive/entry_containment.hpp"

namespace distill::archive {
namespace {

using Parts = std::vector<std::string>;

TEST(ResolveLinkTarget, RelativeTargetsStartAtTheLinksDirectory) {
  EXPECT_EQ(resolve_link_target("usr/bin/python3", "python3.13"),
            (Parts{"usr", "bin", "python3.13"}));
  EXPECT_EQ(resolve_link_target("/usr/lib64/ld.so", "../lib/x86_64-linux-gnu/ld.so"),
            (Parts{"usr", "lib", "x86_64-linux-gnu", "ld.so"}));
  EXPECT_EQ(resolve_link_target("bin", "usr/bin"), (Parts{"usr", "bin"}));
  EXPECT_EQ(resolve_link_target("a/b/c", "./../d/./e/"), (Parts{"a", "d", "e"}));
}

TEST(ResolveLinkTarget, AbsoluteTargetsStartAtTheRoot) {
  EXPECT_EQ(resolve_link_target("opt/x/link", "/usr/lib/jvm/default-java/bin/java"),
            (Parts{"usr", "lib", "jvm", "default-java", "bin", "java"}));
  EXPECT_EQ(resolve_link_target("opt/x/link", "/"), Parts{});
}

TEST(ResolveLinkTarget, ClimbingAboveTheRootIsRefused) {
  EXPECT_EQ(resolve_link_target("etc/x", "../../etc/passwd"), std::nullopt);
  EXPECT_EQ(resolve_link_target("/x", "/../y"), std::nullopt);
  EXPECT_NE(resolve_link_target("etc/x", "../etc/passwd"), std::nullopt);
}

}  // namespace
}  // namespace distill::archive
