// A path resolved inside a root through the links the caller names.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "util/path_in_root.hpp"
#include "util/temp_dir.hpp"
#include "util/text.hpp"

namespace distill::util {
namespace {

std::string resolved(const std::map<std::string, std::string>& links, std::string_view path,
                     bool follow_last = true) {
  auto out = resolve_in_root(
      path,
      [&links](const std::string& prefix) -> std::optional<std::string> {
        auto it = links.find(prefix);
        return it == links.end() ? std::nullopt : std::optional<std::string>(it->second);
      },
      follow_last);
  return out ? "/" + join(*out, "/") : "(loop)";
}

TEST(PathInRoot, FollowsLinksAsTheKernelDoesUnderChroot) {
  const std::map<std::string, std::string> links = {{"lib", "usr/lib"},
                                                    {"lib64", "/usr/lib64"},
                                                    {"usr/lib/ld.so", "../lib64/ld-2.so"},
                                                    {"up", "../../../etc"}};
  EXPECT_EQ(resolved(links, "/lib/x86_64-linux-gnu/libc.so.6"),
            "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(resolved(links, "lib64/ld-linux.so.2"), "/usr/lib64/ld-linux.so.2");
  EXPECT_EQ(resolved(links, "/lib/ld.so"), "/usr/lib64/ld-2.so");  // a chain of links
  EXPECT_EQ(resolved(links, "/lib/ld.so", false), "/usr/lib/ld.so");
  EXPECT_EQ(resolved(links, "lib", false), "/lib");
  EXPECT_EQ(resolved(links, "up/passwd"), "/etc/passwd");  // ".." stops at the root
  EXPECT_EQ(resolved(links, "./a//b/../c"), "/a/c");
  EXPECT_EQ(resolved(links, ""), "/");
}

TEST(PathInRoot, ALoopOfLinksIsNoPath) {
  EXPECT_EQ(resolved({{"a", "b"}, {"b", "a"}}, "a/x"), "(loop)");
  EXPECT_EQ(resolved({{"self", "self"}}, "self"), "(loop)");
  EXPECT_EQ(resolved({{"self", "self"}}, "self", false), "/self");
}

TEST(PathInRoot, ADirectorysLinksAreReadFromTheDisk) {
  auto dir = TempDir::create("distill-path-in-root-");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  const std::filesystem::path root = dir->path();
  std::filesystem::create_directories(root / "usr/lib64");
  std::filesystem::create_symlink("usr/lib64", root / "lib64");
  std::filesystem::create_symlink("/../../../../etc/shadow", root / "usr/lib64/escape");
  auto in_root = [&root](std::string_view path) {
    auto out = resolve_in_directory(root, path);
    return out ? "/" + join(*out, "/") : "(loop)";
  };
  EXPECT_EQ(in_root("/lib64/ld-linux-x86-64.so.2"), "/usr/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(in_root("/lib64/escape"), "/etc/shadow");  // the root's, not this machine's
  std::filesystem::create_symlink("loop", root / "loop");
  EXPECT_EQ(in_root("/loop"), "(loop)");
}

}  // namespace
}  // namespace distill::util
