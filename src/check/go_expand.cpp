// go_expand: see go_expand.hpp.
#include "check/go_expand.hpp"

namespace distill::check {

namespace {

bool is_special(char c) {
  return c == '*' || c == '#' || c == '$' || c == '@' || c == '!' || c == '?' || c == '-' ||
         (c >= '0' && c <= '9');
}

bool is_name_char(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The name after a '$' at the start of `s` and how many bytes it spans; an empty
// name with a non-zero width is bad syntax (the bytes are dropped), an empty name
// with zero width means the '$' is kept.
std::pair<std::string_view, size_t> shell_name(std::string_view s) {
  if (s.front() == '{') {
    if (s.size() > 2 && is_special(s[1]) && s[2] == '}') {
      return {s.substr(1, 1), 3};
    }
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '}') {
        if (i == 1) {
          return {{}, 2};
        }
        return {s.substr(1, i - 1), i + 1};
      }
    }
    return {{}, 1};
  }
  if (is_special(s.front())) {
    return {s.substr(0, 1), 1};
  }
  size_t i = 0;
  while (i < s.size() && is_name_char(s[i])) {
    ++i;
  }
  return {s.substr(0, i), i};
}

}  // namespace

std::string go_expand(std::string_view text, const std::map<std::string, std::string>& env) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      ++i;
      continue;
    }
    auto [name, width] = shell_name(text.substr(i + 1));
    if (name.empty() && width == 0) {
      out += '$';
    } else if (!name.empty()) {
      auto it = env.find(std::string(name));
      if (it != env.end()) {
        out += it->second;
      }
    }
    i += 1 + width;
  }
  return out;
}

}  // namespace distill::check
