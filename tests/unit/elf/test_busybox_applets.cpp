// Tests for the busybox applet table scanner: synthetic buffers (the table among
// other strings and binary noise, shorter sorted runs, unsorted names, names at
// the very end, overlong words) and, when the host has one, the real busybox
// checked against its own `--list`.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "elf/busybox_applets.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"

namespace distill::elf {
namespace {

using namespace std::string_literals;

std::string table(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += name;
    out += '\0';
  }
  return out;
}

const std::vector<std::string> k_names = {"[",    "[[",        "ash",     "cat",
                                          "ls",   "run-parts", "sh",      "ssl_client",
                                          "test", "true",      "udhcpc6", "zcat"};

TEST(BusyboxApplets, FindsTheTableAmongOtherBytes) {
  std::string data =
      "\x7f"
      "ELF\x02\x01\x01\0\0\0"s +
      "usage: %s [OPTIONS]\0zeta\0alpha\0"s + "\x82\x00"s + table(k_names) +
      "\0\xbb\x01 more text\0"s;
  auto applets = busybox_applets(data, "bb");
  ASSERT_TRUE(applets.ok()) << applets.error().message;
  EXPECT_EQ(*applets, k_names);
}

TEST(BusyboxApplets, TheLongestSortedRunWins) {
  std::vector<std::string> short_run = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
  std::string data = table(short_run) + "\x01"s + table(k_names) + "\x02"s + table(short_run);
  std::vector<std::string> longer = k_names;
  longer.insert(longer.begin() + 4, {"chmod", "cp", "date"});
  data += "\x03"s + table(longer);
  auto applets = busybox_applets(data, "bb");
  ASSERT_TRUE(applets.ok());
  EXPECT_EQ(*applets, longer);
}

TEST(BusyboxApplets, AnOutOfOrderNameEndsTheRun) {
  // "ash" after "zcat" starts a new run; the first one is the longer.
  std::string data = table(k_names) + table({"ash", "bc"});
  auto applets = busybox_applets(data, "bb");
  ASSERT_TRUE(applets.ok());
  EXPECT_EQ(*applets, k_names);
  // A repeated name ends a run too (strictly increasing).
  std::vector<std::string> repeated = {"a", "b", "c", "c", "d", "e", "f", "g", "h", "i", "j"};
  applets = busybox_applets(table(repeated), "bb");
  ASSERT_TRUE(applets.ok());
  std::vector<std::string> second(repeated.begin() + 3, repeated.end());
  EXPECT_EQ(*applets, second);
}

TEST(BusyboxApplets, ANameWithoutItsNulIsNotCounted) {
  std::string data = table(k_names);
  data.pop_back();  // "zcat" runs into the end of the data
  auto applets = busybox_applets(data, "bb");
  ASSERT_TRUE(applets.ok());
  std::vector<std::string> expected(k_names.begin(), k_names.end() - 1);
  EXPECT_EQ(*applets, expected);
}

TEST(BusyboxApplets, OverlongWordsAndForeignBytesAreNotNames) {
  std::string word(40, 'q');
  std::string data = table({"a", "b", "c"}) + word + '\0' + table({"d", "e", "f", "g", "h"});
  // The 40-byte word splits the run in two runs too short to be a table.
  auto applets = busybox_applets(data, "bb");
  ASSERT_FALSE(applets.ok());
  EXPECT_NE(applets.error().message.find("bb: no busybox applet table"), std::string::npos)
      << applets.error().message;
  // An uppercase name, a space or a byte above 0x7f is not an applet name either.
  for (const char* odd : {"Cat", "c t", "c\xc3\xa9"}) {
    data = table({"a", "b", "c", "d"}) + odd + '\0' + table({"e", "f", "g", "h"});
    EXPECT_FALSE(busybox_applets(data, "bb").ok()) << odd;
  }
}

TEST(BusyboxApplets, EmptyAndTinyInputsAreErrors) {
  EXPECT_FALSE(busybox_applets("", "bb").ok());
  EXPECT_FALSE(busybox_applets(std::string(1, '\0'), "bb").ok());
  EXPECT_FALSE(busybox_applets(std::string(4096, '\0'), "bb").ok());
  EXPECT_FALSE(busybox_applets(table({"a", "b", "c", "d", "e", "f", "g"}), "bb").ok());
  EXPECT_TRUE(busybox_applets(table({"a", "b", "c", "d", "e", "f", "g", "h"}), "bb").ok());
}

// The real binary: the table equals what busybox itself lists.
TEST(BusyboxApplets, HostBusyboxMatchesItsOwnList) {
  const char* path = "/bin/busybox";
  auto data = util::read_file(path);
  if (!data.ok()) {
    GTEST_SKIP() << "no /bin/busybox (apt-get install busybox-static)";
  }
  auto listed = util::run_command({{path, "--list"}});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->exit_code, 0);
  std::vector<std::string> expected;
  size_t start = 0;
  const std::string& text = listed->stdout_data;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    expected.push_back(text.substr(start, end - start));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  auto applets = busybox_applets(*data, path);
  ASSERT_TRUE(applets.ok()) << applets.error().message;
  EXPECT_EQ(*applets, expected);
  EXPECT_GT(applets->size(), 100u);
}

}  // namespace
}  // namespace distill::elf
