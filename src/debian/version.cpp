// dpkg version ordering (deb-version(7)); see version.hpp.
#include "debian/version.hpp"

#include <cstdint>

namespace distill::debian {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }

// Weight of one character of a non-digit run; `end` is past the string end or at
// a digit (both weigh 0: they end the run).
int weight(std::string_view s, size_t i) {
  if (i >= s.size() || is_digit(s[i])) {
    return 0;
  }
  char c = s[i];
  if (c == '~') {
    return -1;
  }
  if (is_alpha(c)) {
    return static_cast<unsigned char>(c);
  }
  return static_cast<unsigned char>(c) + 256;
}

// Compares an upstream version or a revision.
int compare_part(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    // Non-digit run, character by character.
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      int wa = weight(a, i);
      int wb = weight(b, j);
      if (wa != wb) {
        return wa - wb;
      }
      ++i;
      ++j;
    }
    // Digit run, numerically: skip leading zeros, then the longer run wins, else the
    // first differing digit decides.
    while (i < a.size() && a[i] == '0') {
      ++i;
    }
    while (j < b.size() && b[j] == '0') {
      ++j;
    }
    int first_diff = 0;
    while (i < a.size() && j < b.size() && is_digit(a[i]) && is_digit(b[j])) {
      if (first_diff == 0) {
        first_diff = a[i] - b[j];
      }
      ++i;
      ++j;
    }
    if (i < a.size() && is_digit(a[i])) {
      return 1;
    }
    if (j < b.size() && is_digit(b[j])) {
      return -1;
    }
    if (first_diff != 0) {
      return first_diff;
    }
  }
  return 0;
}

struct Parts {
  std::string_view epoch;
  std::string_view upstream;
  std::string_view revision;
};

std::string_view strip_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

Parts split(std::string_view v) {
  Parts parts;
  v = strip_blanks(v);
  size_t colon = v.find(':');
  if (colon != std::string_view::npos) {
    parts.epoch = v.substr(0, colon);
    v = v.substr(colon + 1);
  }
  size_t dash = v.rfind('-');
  if (dash != std::string_view::npos) {
    parts.revision = v.substr(dash + 1);
    v = v.substr(0, dash);
  }
  parts.upstream = v;
  return parts;
}

uint64_t epoch_value(std::string_view epoch) {
  uint64_t value = 0;
  for (char c : epoch) {
    if (!is_digit(c)) {
      break;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > 0xffffffffULL) {
      return 0xffffffffULL;
    }
  }
  return value;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  Parts pa = split(a);
  Parts pb = split(b);
  uint64_t ea = epoch_value(pa.epoch);
  uint64_t eb = epoch_value(pb.epoch);
  if (ea != eb) {
    return ea < eb ? -1 : 1;
  }
  int r = compare_part(pa.upstream, pb.upstream);
  if (r != 0) {
    return r;
  }
  return compare_part(pa.revision, pb.revision);
}

bool is_valid_version(std::string_view version) {
  if (version.empty()) {
    return false;
  }
  size_t colon = version.find(':');
  std::string_view rest = version;
  if (colon != std::string_view::npos) {
    std::string_view epoch = version.substr(0, colon);
    if (epoch.empty() || epoch.size() > 9) {
      return false;
    }
    for (char c : epoch) {
      if (!is_digit(c)) {
        return false;
      }
    }
    rest = version.substr(colon + 1);
  }
  std::string_view upstream = rest;
  size_t dash = rest.rfind('-');
  if (dash != std::string_view::npos) {
    std::string_view revision = rest.substr(dash + 1);
    upstream = rest.substr(0, dash);
    if (revision.empty()) {
      return false;
    }
    for (char c : revision) {
      if (!is_alnum(c) && c != '.' && c != '+' && c != '~') {
        return false;
      }
    }
  }
  if (upstream.empty() || !is_digit(upstream.front())) {
    return false;
  }
  for (char c : upstream) {
    if (!is_alnum(c) && c != '.' && c != '+' && c != '~' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace distill::debian
