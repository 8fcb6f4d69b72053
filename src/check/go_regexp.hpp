// Regular expressions as container-structure-test evaluates them: Go's `regexp`
// package (RE2 syntax with Perl flags, over UTF-8 text), through the RE2 library.
//
// RE2 and Go share the syntax and the matching semantics (leftmost-first, `$`
// without (?m) only at the very end, `.` not matching \n without (?s), \A \z \pL
// (?i) (?s) (?m) (?U)). What differs, and is closed here:
//  - text that is not valid UTF-8: Go decodes each byte that does not start a
//    well-formed sequence as U+FFFD, so `.` and `[^a]` match it; RE2 would match
//    nothing there. GoText rewrites such bytes to U+FFFD before matching.
//  - `(?<name>re)` (Go 1.22) is passed to RE2 as `(?P<name>re)`.
//  - `\C` (any single byte), which RE2 accepts and Go refuses, is refused.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace re2 {
class RE2;
}

namespace distill::check {

// A text prepared for matching: `view()` is the original when it is valid UTF-8,
// otherwise a copy where every invalid byte is U+FFFD (as Go's decoder reads it).
// The original must outlive it.
class GoText {
 public:
  explicit GoText(std::string_view text);
  GoText(const GoText&) = delete;
  GoText& operator=(const GoText&) = delete;
  [[nodiscard]] std::string_view view() const { return m_view; }

 private:
  std::string m_storage;
  std::string_view m_view;
};

class GoRegexp {
 public:
  // InvalidInput "invalid regular expression \"PATTERN\": why" when Go's
  // regexp.Compile would refuse it.
  static Result<GoRegexp> compile(const std::string& pattern);

  // Go's MatchString: does the pattern match anywhere in `text`?
  [[nodiscard]] bool search(const GoText& text) const;
  // Go's FindString: the leftmost match, or nullopt.
  [[nodiscard]] std::optional<std::string_view> find(const GoText& text) const;
  [[nodiscard]] const std::string& pattern() const { return m_pattern; }

 private:
  GoRegexp(std::string pattern, std::shared_ptr<const re2::RE2> re)
      : m_pattern(std::move(pattern)), m_re(std::move(re)) {}
  std::string m_pattern;
  std::shared_ptr<const re2::RE2> m_re;
};

}  // namespace distill::check
