// The containment rules shared by .debs and upstream archives, the lexical
// symlink resolution audit uses, where an archive's symlinks really lead, and
// the names no layer entry may have.
#include <gtest/gtest.h>

#include <map>

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

TEST(LinkStaysInside, FollowsTheArchivesOwnSymlinks) {
  std::map<std::string, std::string> links = {{"opt/t/d/up", ".."}};
  EXPECT_FALSE(link_stays_inside(links, "opt/t/d/esc", "up/../../etc", "/opt/t"));
  EXPECT_TRUE(link_stays_inside({}, "opt/t/d/esc", "up/../../etc", "/opt/t"));  // up: a directory
  EXPECT_TRUE(link_stays_inside(links, "opt/t/d/ok", "up/d", "/opt/t"));
  EXPECT_TRUE(link_stays_inside(links, "opt/t/d/ok", "/opt/t/d/up/d", "/opt/t"));
  EXPECT_FALSE(link_stays_inside({}, "opt/t/x", "/etc", "/opt/t"));
  EXPECT_FALSE(link_stays_inside({}, "opt/t/x", "..", "/opt/t"));
  EXPECT_TRUE(link_stays_inside({}, "opt/t/x", ".", "/opt/t"));
  // Out of dst and back: the path outside may be another layer's symlink.
  EXPECT_FALSE(link_stays_inside({}, "opt/t/x", "../../lib/../opt/t/y", "/opt/t"));
  // With dst "/", only climbing above the root leaves it.
  EXPECT_TRUE(link_stays_inside(links, "a/b", "../etc/passwd", "/"));
  EXPECT_FALSE(link_stays_inside({}, "a/b", "../../etc", "/"));
  // A loop reaches nothing (ELOOP), and is no escape.
  EXPECT_TRUE(link_stays_inside({{"a", "b"}, {"b", "a"}}, "c", "a", "/"));
}

TEST(LayerPathProblem, WhiteoutsAndOverlongNames) {
  EXPECT_EQ(layer_path_problem("usr/bin/env"), "");
  EXPECT_EQ(layer_path_problem("/etc/a.wh.b"), "");
  EXPECT_EQ(layer_path_problem("/" + std::string(255, 'x')), "");
  EXPECT_NE(layer_path_problem("/etc/.wh.passwd").find("'.wh.passwd' is a whiteout name"),
            std::string::npos);
  EXPECT_NE(layer_path_problem(".wh..wh..opq").find("whiteout"), std::string::npos);
  EXPECT_NE(layer_path_problem("a/" + std::string(256, 'x') + "/b").find("a name of 256 bytes"),
            std::string::npos);
}

}  // namespace
}  // namespace distill::archive
