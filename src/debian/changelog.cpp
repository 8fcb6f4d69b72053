// Debian changelog parsing; see changelog.hpp.
#include "debian/changelog.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "debian/control.hpp"
#include "util/text.hpp"

namespace distill::debian {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

// Package names: [a-z0-9][a-z0-9+.-]* (Policy 5.6.1); upper case is tolerated.
bool is_package_name(std::string_view s) {
  if (s.empty() || std::isalnum(static_cast<unsigned char>(s.front())) == 0) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
  });
}

// "package (version) dist...; urgency=u, key=value": the header of an entry.
bool parse_header(std::string_view line, ChangelogEntry& entry) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos || !is_package_name(line.substr(0, space))) {
    return false;
  }
  std::string_view rest = line.substr(space);
  while (!rest.empty() && is_blank(rest.front())) {
    rest.remove_prefix(1);
  }
  if (rest.empty() || rest.front() != '(') {
    return false;
  }
  size_t close = rest.find(')');
  if (close == std::string_view::npos || close == 1) {
    return false;
  }
  std::string_view version = rest.substr(1, close - 1);
  if (std::any_of(version.begin(), version.end(), [](char c) { return is_blank(c) || c == '('; })) {
    return false;
  }
  rest.remove_prefix(close + 1);
  size_t semicolon = rest.find(';');
  if (semicolon == std::string_view::npos) {
    return false;
  }
  entry.package = std::string(line.substr(0, space));
  entry.version = std::string(version);
  for (const auto& word : split(rest.substr(0, semicolon), ' ')) {
    std::string_view d = trim(word);
    if (!d.empty()) {
      entry.distributions.emplace_back(d);
    }
  }
  for (const auto& field : split(rest.substr(semicolon + 1), ',')) {
    std::string_view kv = trim(field);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos || util::ascii_lower(trim(kv.substr(0, eq))) != "urgency") {
      continue;
    }
    std::string_view value = trim(kv.substr(eq + 1));
    size_t end = 0;
    while (end < value.size() && std::isalpha(static_cast<unsigned char>(value[end])) != 0) {
      ++end;
    }
    entry.urgency = util::ascii_lower(value.substr(0, end));
  }
  return true;
}

// " -- Name <address>  date": the trailer of an entry.
bool parse_trailer(std::string_view line, ChangelogEntry& entry) {
  if (line.substr(0, 4) != " -- ") {
    return false;
  }
  std::string_view rest = line.substr(4);
  size_t close = rest.find('>');
  if (close == std::string_view::npos) {
    entry.maintainer = std::string(trim(rest));
    return true;
  }
  entry.maintainer = std::string(trim(rest.substr(0, close + 1)));
  entry.date = std::string(trim(rest.substr(close + 1)));
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::vector<ChangelogEntry> parse_changelog(std::string_view text) {
  std::vector<ChangelogEntry> entries;
  bool in_entry = false;  // between a header and its trailer
  size_t number = 0;
  for (const std::string& raw : util::split_lines(text)) {
    ++number;
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && !is_blank(line.front())) {
      std::string lowered = util::ascii_lower(line.substr(0, 17));
      if (lowered.rfind("old changelog:", 0) == 0 || lowered.rfind("local variables:", 0) == 0) {
        break;
      }
      ChangelogEntry entry;
      if (parse_header(line, entry)) {
        entry.line = number;
        entries.push_back(std::move(entry));
        in_entry = true;
      }
      continue;  // a line at column 0 that is no header: old free-form text
    }
    if (!in_entry) {
      continue;
    }
    if (parse_trailer(line, entries.back())) {
      in_entry = false;
      continue;
    }
    if (!trim(line).empty()) {
      entries.back().body.emplace_back(line);
    }
  }
  return entries;
}

std::vector<std::string> cve_ids(std::string_view text) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = text.find("CVE-", at)) != std::string_view::npos) {
    size_t p = at + 4;
    size_t year = p;
    while (p < text.size() && is_digit(text[p])) {
      ++p;
    }
    bool ok = p - year == 4 && p < text.size() && text[p] == '-';
    size_t digits = ++p;
    while (ok && p < text.size() && is_digit(text[p])) {
      ++p;
    }
    ok = ok && p - digits >= 4;
    // Not part of a longer word ("xCVE-...", "CVE-2024-12345x").
    bool bounded = (at == 0 || std::isalnum(static_cast<unsigned char>(text[at - 1])) == 0) &&
                   (p >= text.size() || std::isalnum(static_cast<unsigned char>(text[p])) == 0);
    if (ok && bounded) {
      std::string id(text.substr(at, p - at));
      if (std::find(out.begin(), out.end(), id) == out.end()) {
        out.push_back(std::move(id));
      }
    }
    at += 4;
  }
  return out;
}

std::vector<std::string> cve_ids(const ChangelogEntry& entry) {
  std::vector<std::string> out;
  for (const auto& line : entry.body) {
    for (auto& id : cve_ids(line)) {
      if (std::find(out.begin(), out.end(), id) == out.end()) {
        out.push_back(std::move(id));
      }
    }
  }
  return out;
}

int urgency_rank(std::string_view urgency) {
  static constexpr std::array<std::string_view, 5> k_order = {"low", "medium", "high", "emergency",
                                                              "critical"};
  std::string u = util::ascii_lower(urgency);
  for (size_t i = 0; i < k_order.size(); ++i) {
    if (u == k_order[i]) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

}  // namespace distill::debian
