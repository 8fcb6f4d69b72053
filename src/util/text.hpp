// Small text helpers shared by every layer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distill::util {

// The items with `separator` between them.
std::string join(const std::vector<std::string>& items, std::string_view separator = " ");

// The lines of `text`, without their '\n'; a final newline ends the last line
// (it does not start an empty one). Empty lines in between are kept.
std::vector<std::string> split_lines(std::string_view text);

// The non-empty pieces of `text` between `separator`s: "/a//b/" -> {"a", "b"}.
std::vector<std::string> split_nonempty(std::string_view text, char separator);

// A size for people: "512 B", "4.0 KiB", "12.3 MiB", "1.50 GiB".
std::string human_size(uint64_t bytes);

// ASCII case folding, whatever the C locale says: the names of protocols and
// formats (HTTP headers and auth schemes, deb822 fields, URL schemes and
// hosts, hex digests) compare this way.
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string ascii_lower(std::string_view text);

// ASCII case-insensitive equality (inline: deb822 field names are compared
// on the Packages index's hot path).
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace distill::util
