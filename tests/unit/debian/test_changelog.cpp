// Debian changelog parsing (deb-changelog(5)), CVE identifiers and urgency ranks.
#include <gtest/gtest.h>

#include "debian/changelog.hpp"

using namespace distill::debian;

namespace {

constexpr const char* k_changelog =
    "openssl (3.0.11-1~deb12u2) bookworm-security; urgency=high\n"
    "\n"
    "  * Fix CVE-2023-5678 (excessive time in DH checks).\n"
    "  * Also CVE-2024-0727, and again CVE-2023-5678.\n"
    "\n"
    " -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Sat, 27 Jan 2024 13:39:59 +0100\n"
    "\n"
    "openssl (3.0.11-1~deb12u1) bookworm; urgency=medium (HIGH for the upload)\n"
    "\n"
    "  * Import 3.0.11\n"
    "    - CVE-2023-4807 (POLY1305 MAC on Windows).\n"
    "\n"
    " -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Sun, 01 Oct 2023 17:11:58 +0200\n"
    "\n"
    "openssl (3.0.9-1) unstable experimental; urgency=LOW, binary-only=yes\n"
    "\n"
    "  * New upstream.\n"
    "\n"
    " -- Someone <someone@example.invalid>  Tue, 30 May 2023 20:29:39 +0200\n"
    "\n"
    "Old Changelog:\n"
    "openssl (0.1) unstable; urgency=low\n";

}  // namespace

TEST(Changelog, ParsesEntriesNewestFirst) {
  auto entries = parse_changelog(k_changelog);
  ASSERT_EQ(entries.size(), 3U);  // nothing after "Old Changelog:"
  EXPECT_EQ(entries[0].package, "openssl");
  EXPECT_EQ(entries[0].version, "3.0.11-1~deb12u2");
  EXPECT_EQ(entries[0].distributions, std::vector<std::string>{"bookworm-security"});
  EXPECT_EQ(entries[0].urgency, "high");
  EXPECT_EQ(entries[0].maintainer, "Sebastian Andrzej Siewior <sebastian@breakpoint.cc>");
  EXPECT_EQ(entries[0].date, "Sat, 27 Jan 2024 13:39:59 +0100");
  EXPECT_EQ(entries[0].line, 1U);
  ASSERT_EQ(entries[0].body.size(), 2U);
  EXPECT_EQ(entries[0].body[0], "  * Fix CVE-2023-5678 (excessive time in DH checks).");
  EXPECT_EQ(entries[1].urgency, "medium");  // the first word only
  EXPECT_EQ(entries[1].body.size(), 2U);
  EXPECT_EQ(entries[2].distributions, (std::vector<std::string>{"unstable", "experimental"}));
  EXPECT_EQ(entries[2].urgency, "low");  // lower-cased
}

TEST(Changelog, CveIdsAreCollectedOnceInOrder) {
  auto entries = parse_changelog(k_changelog);
  EXPECT_EQ(cve_ids(entries[0]), (std::vector<std::string>{"CVE-2023-5678", "CVE-2024-0727"}));
  EXPECT_EQ(cve_ids(entries[1]), std::vector<std::string>{"CVE-2023-4807"});
  EXPECT_TRUE(cve_ids(entries[2]).empty());
  EXPECT_EQ(cve_ids("CVE-2026-12345, CVE-2026-123456."),
            (std::vector<std::string>{"CVE-2026-12345", "CVE-2026-123456"}));
  // Too few digits, a longer word, no number: not identifiers.
  EXPECT_TRUE(cve_ids("CVE-2026-123 CVE-26-12345 xCVE-2026-12345 CVE-2026-12345a CVE-").empty());
}

TEST(Changelog, UrgencyRanks) {
  EXPECT_LT(urgency_rank("low"), urgency_rank("medium"));
  EXPECT_LT(urgency_rank("medium"), urgency_rank("high"));
  EXPECT_LT(urgency_rank("high"), urgency_rank("emergency"));
  EXPECT_LT(urgency_rank("emergency"), urgency_rank("critical"));
  EXPECT_EQ(urgency_rank("HIGH"), urgency_rank("high"));
  EXPECT_EQ(urgency_rank("whenever"), 0);
  EXPECT_EQ(urgency_rank(""), 0);
}

TEST(Changelog, ToleratesJunk) {
  // Free text at column 0, a body before any header, CRLF line ends, a header
  // without a trailer, malformed headers: skipped, never a failure.
  std::string text =
      "  stray body line\r\n"
      "This is not a header\r\n"
      "pkg (1.0 with space) unstable; urgency=low\r\n"
      "pkg 1.0 unstable; urgency=low\r\n"
      "pkg (2.0) unstable; urgency=critical\r\n"
      "  * CVE-2026-0001\r\n"
      "pkg (1.0) unstable\r\n"  // no ';'
      "pkg (1.5) unstable;\r\n"
      "\r\n"
      "  * last\r\n"
      " -- A <a@b>\r\n"
      "Local variables:\r\n"
      "pkg (0.1) unstable; urgency=low\r\n";
  auto entries = parse_changelog(text);
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].version, "2.0");
  EXPECT_EQ(entries[0].urgency, "critical");
  EXPECT_EQ(cve_ids(entries[0]), std::vector<std::string>{"CVE-2026-0001"});
  EXPECT_EQ(entries[0].line, 5U);
  EXPECT_EQ(entries[1].version, "1.5");
  EXPECT_EQ(entries[1].urgency, "");
  EXPECT_EQ(entries[1].maintainer, "A <a@b>");
  EXPECT_EQ(entries[1].date, "");
  EXPECT_TRUE(parse_changelog("").empty());
  EXPECT_TRUE(parse_changelog("\n\n\n").empty());
}
