// Unit tests for parse_ar: GNU/BSD/deb names, padding, and corrupt input.
#include <gtest/gtest.h>

#include "archive/ar_reader.hpp"

namespace distill::archive {
namespace {

std::string header(std::string name, size_t size) {
  char buffer[61];
  std::snprintf(buffer, sizeof buffer, "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name.c_str(), "0", "0",
                "0", "100644", size);
  return std::string(buffer, 60);
}

std::string member(const std::string& name, const std::string& data) {
  std::string out = header(name, data.size()) + data;
  if (data.size() % 2 == 1) {
    out += '\n';
  }
  return out;
}

TEST(ParseAr, DebStyleMembersWithTrailingSlashAndPadding) {
  std::string ar = "!<arch>\n" + member("debian-binary", "2.0\n") +
                   member("control.tar.xz/", "abc") + member("data.tar.zst", "0123456789");
  auto members = parse_ar(ar, "t.deb");
  ASSERT_TRUE(members.ok()) << members.error().message;
  ASSERT_EQ(members->size(), 3U);
  EXPECT_EQ((*members)[0].name, "debian-binary");
  EXPECT_EQ(ar.substr((*members)[0].offset, (*members)[0].size), "2.0\n");
  EXPECT_EQ((*members)[1].name, "control.tar.xz");
  EXPECT_EQ(ar.substr((*members)[1].offset, (*members)[1].size), "abc");
  EXPECT_EQ((*members)[2].name, "data.tar.zst");
  EXPECT_EQ(ar.substr((*members)[2].offset, (*members)[2].size), "0123456789");
}

TEST(ParseAr, GnuLongNamesAndSymbolTable) {
  std::string table = "a-very-long-member-name.txt/\nsecond-long-member-name.bin/\n";
  std::string ar = "!<arch>\n" + member("/", "SYMS") + member("//", table) + member("/29", "xy") +
                   member("/0", "z");
  auto members = parse_ar(ar, "gnu.a");
  ASSERT_TRUE(members.ok()) << members.error().message;
  ASSERT_EQ(members->size(), 2U);
  EXPECT_EQ((*members)[0].name, "second-long-member-name.bin");
  EXPECT_EQ((*members)[1].name, "a-very-long-member-name.txt");
  EXPECT_EQ(ar.substr((*members)[1].offset, (*members)[1].size), "z");
}

TEST(ParseAr, BsdLongName) {
  std::string ar = "!<arch>\n" + member("#1/20", "bsd-long-name-here!!payload");
  auto members = parse_ar(ar, "bsd.a");
  ASSERT_TRUE(members.ok()) << members.error().message;
  ASSERT_EQ(members->size(), 1U);
  EXPECT_EQ((*members)[0].name, "bsd-long-name-here!!");
  EXPECT_EQ(ar.substr((*members)[0].offset, (*members)[0].size), "payload");
}

TEST(ParseAr, BadMagicIsCorrupt) {
  auto members = parse_ar("!<arch!\nxxxx", "bad.deb");
  ASSERT_FALSE(members.ok());
  EXPECT_EQ(members.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(members.error().message.find("bad.deb"), std::string::npos);
}

TEST(ParseAr, TruncatedDataIsCorrupt) {
  std::string ar =
      "!<arch>\n" + member("debian-binary", "2.0\n") + member("data.tar", "0123456789");
  ar.resize(ar.size() - 3);
  auto members = parse_ar(ar, "short.deb");
  ASSERT_FALSE(members.ok());
  EXPECT_EQ(members.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(members.error().message.find("short.deb"), std::string::npos);
  EXPECT_NE(members.error().message.find("exceeds"), std::string::npos);
}

TEST(ParseAr, TruncatedHeaderIsCorrupt) {
  std::string ar = "!<arch>\n" + member("debian-binary", "2.0\n");
  ar += header("data.tar", 4).substr(0, 30);
  auto members = parse_ar(ar, "t.deb");
  ASSERT_FALSE(members.ok());
  EXPECT_NE(members.error().message.find("truncated"), std::string::npos);
}

TEST(ParseAr, HugeOrGarbledSizeIsRejected) {
  std::string ar = "!<arch>\n" + header("x", 0);
  ar.replace(8 + 48, 10, "9999999999");
  EXPECT_FALSE(parse_ar(ar, "t").ok());
  ar.replace(8 + 48, 10, "12a       ");
  EXPECT_FALSE(parse_ar(ar, "t").ok());
  ar.replace(8 + 48, 10, "-1        ");
  EXPECT_FALSE(parse_ar(ar, "t").ok());
}

TEST(ParseAr, EmptyArchiveHasNoMembers) {
  auto members = parse_ar("!<arch>\n", "e.a");
  ASSERT_TRUE(members.ok());
  EXPECT_TRUE(members->empty());
}

}  // namespace
}  // namespace distill::archive
