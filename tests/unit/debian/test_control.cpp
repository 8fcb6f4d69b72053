// deb822 parser tests (control.hpp).
#include <gtest/gtest.h>

#include "debian/control.hpp"

namespace distill::debian {
namespace {

TEST(Control, ParsesParagraphsFieldsAndLines) {
  auto parsed = parse_control("Package: a\nVersion: 1\n\n\nPackage: b\nversion: 2\n", "P");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].get("Package"), "a");
  EXPECT_EQ((*parsed)[0].line(), 1);
  EXPECT_EQ((*parsed)[1].line(), 5);
  EXPECT_EQ((*parsed)[1].get("VERSION"), "2");
  EXPECT_EQ((*parsed)[1].fields()[1].line, 6);
  EXPECT_EQ((*parsed)[1].find("Missing"), nullptr);
  EXPECT_EQ((*parsed)[1].get("Missing", "dflt"), "dflt");
}

TEST(Control, ContinuationLinesAndRoundTrip) {
  std::string text =
      "Package: hello\n"
      "Description: short\n"
      " long line one\n"
      " .\n"
      " long line two\n"
      "SHA256:\n"
      " abc 12 main/x\n"
      "Depends: a,\n"
      "\tb\n";
  auto p = parse_paragraph(text, "control");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->get("Description"), "short\n long line one\n .\n long line two");
  EXPECT_EQ(p->get("SHA256"), "\n abc 12 main/x");
  EXPECT_EQ(value_lines(p->get("SHA256")), std::vector<std::string_view>{"abc 12 main/x"});
  EXPECT_EQ(p->text(), text);
}

TEST(Control, CrlfCommentsAndTrailingWhitespace) {
  auto parsed =
      parse_control("# comment\r\nTypes: deb  \r\n# inside\r\nURIs: http://x\r\n \r\n", "s");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].get("Types"), "deb");
  EXPECT_EQ((*parsed)[0].get("URIs"), "http://x");
  EXPECT_EQ((*parsed)[0].line(), 2);
}

TEST(Control, MalformedLinesNameOriginAndLine) {
  auto bad = parse_control("Package: a\nno colon here\n", "dists/x/Packages");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(bad.error().message.rfind("dists/x/Packages:2: ", 0), 0u) << bad.error().message;

  auto cont = parse_control(" leading continuation\n", "f");
  ASSERT_FALSE(cont.ok());
  EXPECT_NE(cont.error().message.find("f:1:"), std::string::npos);

  auto dup = parse_control("A: 1\na: 2\n", "f");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("f:2: duplicate field"), std::string::npos);

  auto empty_name = parse_control(": value\n", "f");
  EXPECT_FALSE(empty_name.ok());

  auto cont_after_blank = parse_control("A: 1\n\n b\n", "f");
  ASSERT_FALSE(cont_after_blank.ok());
  EXPECT_NE(cont_after_blank.error().message.find("f:3:"), std::string::npos);
}

TEST(Control, EmptyInputAndSingleParagraphHelper) {
  auto none = parse_control("", "f");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(parse_paragraph("\n\n", "f").ok());
  auto two = parse_paragraph("A: 1\n\nB: 2\n", "f");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message.find("f:3:"), std::string::npos);
  auto no_newline = parse_paragraph("A: 1", "f");
  ASSERT_TRUE(no_newline.ok());
  EXPECT_EQ(no_newline->get("a"), "1");
}

TEST(Control, SetReplacesCaseInsensitively) {
  Paragraph p;
  p.set("Package", "a");
  p.set("package", "b");
  p.set("Status", "install ok installed");
  EXPECT_EQ(p.text(), "Package: b\nStatus: install ok installed\n");
}

TEST(Control, ScanGivesRawValueViews) {
  struct Collect : ControlVisitor {
    std::vector<std::string> seen;
    Status field(std::string_view name, std::string_view raw, int line) override {
      seen.push_back(std::to_string(line) + " " + std::string(name) + "=[" + std::string(raw) +
                     "]");
      return {};
    }
    Status paragraph_end(int first_line) override {
      seen.push_back("end " + std::to_string(first_line));
      return {};
    }
  } collect;
  ASSERT_TRUE(scan_control("A:  x  \r\nB:\n b1\n# c\n b2\n\nC: y", "f", collect).ok());
  EXPECT_EQ(collect.seen, (std::vector<std::string>{"1 A=[x]", "2 B=[\n b1\n# c\n b2]", "end 1",
                                                    "7 C=[y]", "end 7"}));
  EXPECT_EQ(normalize_value("\n b1\n# c\n b2  "), "\n b1\n b2");
  EXPECT_EQ(normalize_value("  v \r"), "v");
}

TEST(Control, ParsesALargeIndex) {
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += "Package: pkg" + std::to_string(i) +
            "\nVersion: 1.2.3-4\nArchitecture: amd64\nMaintainer: Someone <a@b.c>\n"
            "Installed-Size: 123\nDepends: libc6 (>= 2.36), libfoo1 (>= 1.0) | libbar\n"
            "Filename: pool/main/p/pkg/pkg_1.2.3-4_amd64.deb\nSize: 4567\n"
            "SHA256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
            "Description: something\n a longer description line\n .\n another\n\n";
  }
  // ~10 MB. How fast is the bench's business (a cold build parses Packages
  // indexes of this size), not a timed test's on a shared machine.
  auto parsed = parse_control(text, "big");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 20000u);
  EXPECT_EQ(parsed->at(19999).get("Package"), "pkg19999");
  EXPECT_EQ(parsed->at(19999).get("Description"),
            "something\n a longer description line\n .\n another");
}

}  // namespace
}  // namespace distill::debian
