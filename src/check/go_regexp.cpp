// GoRegexp: see go_regexp.hpp. The UTF-8 rules are those of Go's
// unicode/utf8.DecodeRune (Unicode's well-formed byte sequences: no overlong
// forms, no surrogates, nothing above U+10FFFF); each byte of an ill-formed
// sequence decodes on its own as U+FFFD.
#include "check/go_regexp.hpp"

#include <re2/re2.h>

namespace distill::check {

namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0.
size_t utf8_length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned c = byte(0);
  if (c < 0x80) {
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// The pattern RE2 gets for Go's `pattern`, or the reason Go refuses it.
Result<std::string> to_re2(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size() + 8);
  bool in_class = false;
  bool quoted = false;  // inside \Q...\E
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (quoted) {
      if (c == '\\' && i + 1 < pattern.size() && pattern[i + 1] == 'E') {
        quoted = false;
        out += "\\E";
        ++i;
      } else {
        out += c;
      }
      continue;
    }
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[i + 1];
      if (next == 'C') {
        return make_error(ErrorKind::InvalidInput, "invalid escape sequence: \\C");
      }
      quoted = next == 'Q' && !in_class;
      out += c;
      out += next;
      ++i;
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
        size_t close = pattern.find(":]", i + 2);
        if (close != std::string::npos) {
          out.append(pattern, i, close + 2 - i);
          i = close + 1;
          continue;
        }
      }
      if (c == ']') {
        in_class = false;
      }
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') {
        out += '^';
        ++i;
      }
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') {
        out += ']';
        ++i;
      }
      continue;
    }
    if (c == '(' && pattern.compare(i, 3, "(?<") == 0 && i + 3 < pattern.size() &&
        pattern[i + 3] != '=' && pattern[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

GoText::GoText(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t n = utf8_length(text.substr(i));
    if (n == 0) {
      break;
    }
    i += n;
  }
  if (i == text.size()) {
    m_view = text;
    return;
  }
  m_storage.reserve(text.size() + 16);
  m_storage.append(text.substr(0, i));
  while (i < text.size()) {
    size_t n = utf8_length(text.substr(i));
    if (n == 0) {
      m_storage += "\xEF\xBF\xBD";
      ++i;
    } else {
      m_storage.append(text.substr(i, n));
      i += n;
    }
  }
  m_view = m_storage;
}

Result<GoRegexp> GoRegexp::compile(const std::string& pattern) {
  auto invalid = [&](const std::string& why) {
    return make_error(ErrorKind::InvalidInput,
                      "invalid regular expression \"" + pattern + "\": " + why);
  };
  auto translated = to_re2(pattern);
  if (!translated.ok()) {
    return invalid(translated.error().message);
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_max_mem(int64_t{256} << 20);
  auto re = std::make_shared<const re2::RE2>(*translated, options);
  if (!re->ok()) {
    return invalid(re->error());
  }
  return GoRegexp(pattern, std::move(re));
}

bool GoRegexp::search(const GoText& text) const {
  const std::string_view view = text.view();
  return m_re->Match(re2::StringPiece(view.data(), view.size()), 0, view.size(), RE2::UNANCHORED,
                     nullptr, 0);
}

std::optional<std::string_view> GoRegexp::find(const GoText& text) const {
  const std::string_view view = text.view();
  re2::StringPiece match;
  if (!m_re->Match(re2::StringPiece(view.data(), view.size()), 0, view.size(), RE2::UNANCHORED,
                   &match, 1)) {
    return std::nullopt;
  }
  return std::string_view(match.data(), match.size());
}

}  // namespace distill::check
