#include "net/url_reference.hpp"

#include <cctype>
#include <vector>

namespace distill::net {

namespace {

// The length of the reference's scheme ("http" of "http://..."), 0 if none.
size_t scheme_length(std::string_view text) {
  if (text.empty() || std::isalpha(static_cast<unsigned char>(text[0])) == 0) {
    return 0;
  }
  for (size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':') {
      return i;
    }
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' && c != '.') {
      return 0;
    }
  }
  return 0;
}

// RFC 3986 section 5.2.4, on a path that starts with '/'.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  size_t start = 1;
  bool ends_in_directory = false;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment == ".") {
      ends_in_directory = last;
    } else if (segment == "..") {
      if (!kept.empty()) {
        kept.pop_back();
      }
      ends_in_directory = last;
    } else {
      kept.push_back(segment);
      ends_in_directory = false;
    }
    start = end + 1;
  }
  std::string out;
  for (auto segment : kept) {
    out += "/";
    out += segment;
  }
  if (ends_in_directory || out.empty()) {
    out += "/";
  }
  return out;
}

}  // namespace

std::string resolve_url(std::string_view base, std::string_view reference) {
  if (size_t hash = reference.find('#'); hash != std::string_view::npos) {
    reference = reference.substr(0, hash);
  }
  if (scheme_length(reference) > 0 || base.empty()) {
    return std::string(reference);
  }
  const size_t scheme = scheme_length(base);
  const std::string_view scheme_part = base.substr(0, scheme + 1);  // "https:"
  if (reference.starts_with("//")) {
    return std::string(scheme_part) + std::string(reference);
  }
  // The base's authority ends at its path, query or fragment.
  size_t authority_end = base.size();
  if (base.substr(scheme + 1).starts_with("//")) {
    authority_end = base.find_first_of("/?#", scheme + 3);
    if (authority_end == std::string_view::npos) {
      authority_end = base.size();
    }
  }
  const std::string origin(base.substr(0, authority_end));
  std::string_view rest = base.substr(authority_end);
  std::string_view base_path = rest.substr(0, rest.find_first_of("?#"));
  if (reference.empty()) {
    return origin + std::string(rest.substr(0, rest.find('#')));
  }
  // The reference's own query stays as it is.
  const size_t query = reference.find('?');
  std::string_view ref_path = reference.substr(0, query);
  std::string_view ref_query =
      query == std::string_view::npos ? std::string_view() : reference.substr(query);
  if (ref_path.empty()) {
    return origin + std::string(base_path.empty() ? "/" : base_path) + std::string(ref_query);
  }
  std::string merged;
  if (ref_path.front() == '/') {
    merged = std::string(ref_path);
  } else {
    size_t slash = base_path.rfind('/');
    merged = (slash == std::string_view::npos ? std::string("/")
                                              : std::string(base_path.substr(0, slash + 1))) +
             std::string(ref_path);
  }
  return origin + remove_dot_segments(merged) + std::string(ref_query);
}

}  // namespace distill::net
