// Go regexp semantics through RE2: the probes where ECMAScript over bytes (what
// distill used before) and Go's regexp disagree, each checked both ways.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "check/go_regexp.hpp"
#include "util/file_io.hpp"

namespace distill::check {
namespace {

bool matches(const std::string& pattern, const std::string& text) {
  auto re = GoRegexp::compile(pattern);
  EXPECT_TRUE(re.ok()) << pattern << ": " << (re.ok() ? "" : re.error().message);
  if (!re.ok()) {
    return false;
  }
  const GoText go(text);
  return re->search(go);
}

TEST(GoRegexp, TextAnchorsAreNotLiterals) {
  EXPECT_TRUE(matches(R"(\Aroot:)", "root:x:0:0\nnobody:x\n"));
  EXPECT_FALSE(matches(R"(\Anobody)", "root:x:0:0\nnobody:x\n"));
  EXPECT_FALSE(matches(R"(\AA)", "xAA"));  // not the literal "AA"
  EXPECT_TRUE(matches(R"(x\n\z)", "root:x\n"));
  EXPECT_FALSE(matches(R"(root:x\z)", "root:x\n"));
  EXPECT_FALSE(matches(R"(a\zb)", "azb"));
  // `$` without (?m) is the very end, not before a final newline (unlike Perl).
  EXPECT_FALSE(matches("world$", "hello world\n"));
  EXPECT_TRUE(matches("(?m)world$", "hello world\n"));
}

TEST(GoRegexp, UnicodeClassesAndUtf8Dot) {
  EXPECT_TRUE(matches(R"(^\pL+$)", "h\xc3\xa9llo"));
  EXPECT_FALSE(matches(R"(^\pL+$)", "h3llo"));
  EXPECT_FALSE(matches(R"(^\pL$)", "pL"));
  EXPECT_TRUE(matches(R"(^\p{Greek}+$)", "\xce\xb1\xce\xb2"));
  // `.` is one character, however many bytes.
  EXPECT_TRUE(matches("^h.llo$", "h\xc3\xa9llo"));
  EXPECT_TRUE(matches("^.$", "\xe2\x82\xac"));
  EXPECT_FALSE(matches("^..$", "\xe2\x82\xac"));
  // \xe9 in the pattern is the code point U+00E9, matched by its UTF-8 bytes.
  EXPECT_TRUE(matches(R"(h\xe9llo)", "print: h\xc3\xa9llo.txt\n"));
  EXPECT_TRUE(matches("h\xc3\xa9llo", "h\xc3\xa9llo"));
  EXPECT_TRUE(matches(R"(\x{20AC})", "\xe2\x82\xac"));
}

TEST(GoRegexp, InlineFlags) {
  EXPECT_TRUE(matches("(?i)HELLO", "hello"));
  EXPECT_TRUE(matches("(?i)\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9"));  // ÉTÉ vs été
  EXPECT_FALSE(matches("HELLO", "hello"));
  EXPECT_TRUE(matches("(?s)a.b", "a\nb"));
  EXPECT_FALSE(matches("a.b", "a\nb"));
  EXPECT_TRUE(matches("a(?s:.)b", "a\nb"));
  EXPECT_TRUE(matches("(?m)^b$", "a\nb\nc"));
  EXPECT_FALSE(matches("^b$", "a\nb\nc"));
  EXPECT_TRUE(matches("(?U)a+", "aaa"));
  EXPECT_TRUE(matches("(?is)HELLO.WORLD", "hello\nworld"));
}

TEST(GoRegexp, InvalidUtf8TextReadsAsReplacementCharacters) {
  // Latin-1 "héllo": the lone 0xE9 byte is U+FFFD to Go.
  const std::string latin1 = "h\xe9llo";
  EXPECT_TRUE(matches("^h.llo$", latin1));
  EXPECT_TRUE(matches(R"(^h[^a]llo$)", latin1));
  EXPECT_TRUE(matches(R"(^h\x{FFFD}llo$)", latin1));
  EXPECT_FALSE(matches(R"(h\xe9llo)", latin1));
  EXPECT_TRUE(matches("llo", latin1));
  // Truncated, overlong and surrogate sequences: one U+FFFD per byte.
  EXPECT_TRUE(matches("^a...b$",
                      "a\xe2\x82"
                      "\xc0"
                      "b"));
  EXPECT_TRUE(matches("^a...b$",
                      "a\xed\xa0\x80"
                      "b"));
  EXPECT_TRUE(matches("^a.b$",
                      "a\xf0\x9f\x98\x80"
                      "b"));  // a valid 4-byte sequence is one
  const GoText valid("plain");
  EXPECT_EQ(valid.view(), "plain");
  const GoText fixed(latin1);
  EXPECT_EQ(fixed.view(), "h\xef\xbf\xbdllo");
}

TEST(GoRegexp, SyntaxGoRefusesIsRefused) {
  for (const char* bad : {R"(\Z)", R"(\C)", "a**", "(?<=a)b", R"(\1)", "x{1001}", "(", "[a-"}) {
    auto re = GoRegexp::compile(bad);
    EXPECT_FALSE(re.ok()) << bad;
    if (!re.ok()) {
      EXPECT_EQ(
          re.error().message.rfind("invalid regular expression \"" + std::string(bad) + "\": ", 0),
          0U)
          << re.error().message;
    }
  }
  // Go 1.22's (?<name>re), \Q...\E, POSIX classes, octal escapes.
  EXPECT_TRUE(matches("(?<word>ab)c", "abc"));
  EXPECT_TRUE(matches(R"(\Qa.b\E)", "a.b"));
  EXPECT_FALSE(matches(R"(\Qa.b\E)", "axb"));
  EXPECT_TRUE(matches(R"(\Q\C\E)", "\\C"));
  EXPECT_TRUE(matches("[[:alpha:]]+[]]", "ab]"));
  EXPECT_TRUE(matches(R"(\101)", "A"));
}

TEST(GoRegexp, FindReturnsTheLeftmostFirstMatch) {
  auto re = GoRegexp::compile("a+|b");
  ASSERT_TRUE(re.ok());
  const GoText text("xbaaa");
  auto found = re->find(text);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, "b");
  const GoText none("xyz");
  EXPECT_FALSE(re->find(none).has_value());
}

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

bool valid_utf8(const std::string& text) {
  const GoText go(text);
  return go.view().data() == text.data();  // unchanged: nothing was replaced
}

// Go's own answers (tests/data/go_regexp/cases.json, recorded by gen.go with Go's
// regexp): compiles or not, matches or not, and the leftmost match, for every
// pattern against every text, invalid UTF-8 included.
TEST(GoRegexp, AgreesWithGoOnRecordedCases) {
  auto text = util::read_file(std::string(DISTILL_SOURCE_DIR) + "/tests/data/go_regexp/cases.json");
  ASSERT_TRUE(text.ok()) << text.error().message;
  const auto cases = nlohmann::json::parse(*text);
  std::vector<std::string> inputs;
  for (const auto& hex : cases["texts"]) {
    inputs.push_back(unhex(hex.get<std::string>()));
  }
  size_t checked = 0;
  for (const auto& answer : cases["answers"]) {
    const std::string pattern = unhex(answer["pattern_hex"].get<std::string>());
    auto re = GoRegexp::compile(pattern);
    ASSERT_EQ(re.ok(), answer["valid"].get<bool>())
        << "pattern " << answer["pattern"] << (re.ok() ? "" : ": " + re.error().message);
    if (!re.ok()) {
      continue;
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const GoText go(inputs[i]);
      EXPECT_EQ(re->search(go), answer["matches"][i].get<bool>())
          << "pattern " << answer["pattern"] << " text " << cases["texts"][i];
      const auto& found = answer["found"][i];
      auto match = re->find(go);
      EXPECT_EQ(match.has_value(), !found.is_null());
      if (match && !found.is_null() && valid_utf8(inputs[i])) {
        EXPECT_EQ(std::string(*match), unhex(found.get<std::string>()))
            << "pattern " << answer["pattern"] << " text " << cases["texts"][i];
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000U);
}

}  // namespace
}  // namespace distill::check
