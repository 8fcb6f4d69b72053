// BuildOptions: the session flags every command that reads the cache and the
// mirror takes are declared in one place, with the same names and texts.
#include <gtest/gtest.h>

#include <algorithm>

#include "cli/build_options.hpp"

namespace distill::cli {
namespace {

// Parses `args` (without the program name) on a command that declares the
// session flags; "" when they parse, else CLI11's message.
std::string parse_session(BuildOptions& options, std::vector<std::string> args,
                          bool refresh = true) {
  CLI::App app{"test"};
  options.declare_session(app, refresh);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(BuildOptionsTest, SessionFlagsFillTheOptions) {
  BuildOptions options;
  EXPECT_EQ(parse_session(options, {"--cache-dir", "/c", "--progress", "plain", "--refresh",
                                    "--allow-release-rollback"}),
            "");
  EXPECT_EQ(options.cache_dir, "/c");
  EXPECT_EQ(options.progress, "plain");
  EXPECT_TRUE(options.refresh);
  EXPECT_TRUE(options.allow_release_rollback);

  BuildOptions defaults;
  EXPECT_EQ(parse_session(defaults, {}), "");
  EXPECT_EQ(defaults.progress, "auto");
  EXPECT_FALSE(defaults.refresh);
  EXPECT_FALSE(defaults.allow_release_rollback);
}

TEST(BuildOptionsTest, ABadProgressOrARefreshNotOfferedIsRefused) {
  BuildOptions options;
  EXPECT_NE(parse_session(options, {"--progress", "loud"}), "");
  BuildOptions without_refresh;
  EXPECT_NE(parse_session(without_refresh, {"--refresh"}, false), "");
  EXPECT_EQ(parse_session(without_refresh, {"--allow-release-rollback"}, false), "");
  EXPECT_TRUE(without_refresh.allow_release_rollback);
}

TEST(BuildOptionsTest, BuildAndLockTakeTheSessionFlags) {
  for (bool for_build : {true, false}) {
    BuildOptions options;
    CLI::App app{"test"};
    options.declare(app, for_build);
    std::vector<std::string> args = {"base", "--cache-dir", "/c", "--refresh"};
    std::reverse(args.begin(), args.end());
    ASSERT_NO_THROW(app.parse(args));
    EXPECT_EQ(options.cache_dir, "/c");
    EXPECT_TRUE(options.refresh);
    EXPECT_EQ(options.specs, std::vector<std::string>{"base"});
  }
}

// The request of `distill build ARGS...`: its usage error when there is one.
Result<image::BuildRequest> build_request(std::vector<std::string> args) {
  BuildOptions options;
  CLI::App app{"test"};
  options.declare(app, true);
  std::reverse(args.begin(), args.end());
  app.parse(args);
  return options.to_request();
}

TEST(BuildOptionsTest, AnEpochPastTheYear9999OrOutOfRangeIsAUsageError) {
  auto last = build_request({"static", "--source-date-epoch", "253402300799"});
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_EQ(last->source_date_epoch, 253402300799);
  for (const char* bad : {"253402300800", "99999999999999999999", "-1", "1e9"}) {
    auto refused = build_request({"static", "--source-date-epoch", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().message.rfind("usage: --source-date-epoch", 0), 0U)
        << refused.error().message;
  }
}

TEST(BuildOptionsTest, AnArchListWithNoArchIsAUsageError) {
  for (const char* bad : {",", ",,", "amd64,amd64", "x86_64"}) {
    auto refused = build_request({"static", "--arch", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().message.rfind("usage: --arch '" + std::string(bad) + "': ", 0), 0U)
        << refused.error().message;
  }
}

// A list with an empty item is a slip ("amd64," for "amd64,arm64"), refused
// with the value as given, as a repeated item is; it used to build amd64.
TEST(BuildOptionsTest, AnEmptyItemInAListIsAUsageErrorNamingTheValue) {
  for (const char* bad : {"amd64,", ",amd64", "amd64,,arm64", "amd64,arm64,"}) {
    auto refused = build_request({"static", "--arch", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().message,
              "usage: --arch '" + std::string(bad) + "': an empty item (a comma too many)");
  }
  for (const char* bad : {"latest,", ",nonroot", "latest,,debug"}) {
    auto refused = build_request({"static", "--variant", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().message,
              "usage: --variant '" + std::string(bad) + "': an empty item (a comma too many)");
  }
  auto both = build_request({"static", "--arch", "amd64,arm64", "--variant", "latest,debug"});
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->archs, (std::vector<std::string>{"amd64", "arm64"}));
  EXPECT_EQ(both->variants.size(), 2U);

  // `lock` takes --arch the same way.
  BuildOptions lock;
  CLI::App app{"test"};
  lock.declare(app, false);
  std::vector<std::string> args = {"static", "--arch", "arm64,"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  auto refused = lock.to_request();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "usage: --arch 'arm64,': an empty item (a comma too many)");
}

TEST(BuildOptionsTest, CommaListSplitsAndRefusesEmptyItems) {
  auto one = comma_list("--only", "libc6");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<std::string>{"libc6"});
  auto two = comma_list("--only", "libc6,libssl3");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, (std::vector<std::string>{"libc6", "libssl3"}));
  for (const char* bad : {"", ",", "libc6,", ",libc6", "a,,b"}) {
    auto refused = comma_list("--only", bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().kind, ErrorKind::InvalidInput);
    EXPECT_EQ(refused.error().message.rfind("usage: --only '" + std::string(bad) + "': ", 0), 0U)
        << refused.error().message;
  }
}

}  // namespace
}  // namespace distill::cli
