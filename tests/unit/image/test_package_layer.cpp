// check_control_matches (issue 11, item 5): a .deb is the package its index
// entry names, and that name is a valid Debian package name.
#include <gtest/gtest.h>

#include "image/package_layer.hpp"

namespace distill::image {
namespace {

InstalledPackage hello() {
  InstalledPackage p;
  p.name = "hello";
  p.version = "1:2.10-3";
  p.arch = "amd64";
  return p;
}

const char* const k_control =
    "Package: hello\nVersion: 1:2.10-3\nArchitecture: amd64\nDescription: hi\n";

TEST(PackageLayer, ControlMatchingTheIndexPasses) {
  EXPECT_TRUE(check_control_matches(hello(), k_control).ok());
}

TEST(PackageLayer, ControlDisagreeingWithTheIndexIsRefused) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"Package: hello", "Package: other"},
                          {"Version: 1:2.10-3", "Version: 2.10-3"},
                          {"Architecture: amd64", "Architecture: arm64"}}) {
    std::string control = k_control;
    control.replace(control.find(from), from.size(), to);
    Status status = check_control_matches(hello(), control);
    ASSERT_FALSE(status.ok()) << to;
    EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(status.error().message.find("hello_1:2.10-3_amd64.deb: its control file says " +
                                          to.substr(0, to.find(':'))),
              std::string::npos)
        << status.error().message;
  }
}

TEST(PackageLayer, InvalidPackageNameIsRefused) {
  InstalledPackage p = hello();
  p.name = "..";
  Status status = check_control_matches(p, "Package: ..\nVersion: 1:2.10-3\nArchitecture: amd64\n");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("invalid package name"), std::string::npos);
}

}  // namespace
}  // namespace distill::image
