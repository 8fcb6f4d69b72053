#include "net/credentials.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include "util/file_io.hpp"
#include "util/text.hpp"

namespace distill::net {

namespace {

struct Entry {
  std::string scheme;  // "" = any of http/https as apt_auth.conf(5) allows
  bool https_only = false;
  std::string host;  // host[:port], lowercase
  std::string path;  // prefix, starting with '/' (or empty)
  Credentials credentials;
};

struct Store {
  std::mutex mutex;
  std::vector<Entry> remembered;
  std::vector<Entry> auth_conf;
  bool auth_conf_read = false;
  std::filesystem::path apt_root = "/";
};

Store& store() {
  static Store instance;
  return instance;
}

struct Parts {
  std::string scheme, userinfo, host, path;
};

// scheme://[userinfo@]host[:port][/path]; nullopt when it is not that shape.
std::optional<Parts> split_url(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return std::nullopt;
  }
  Parts parts;
  parts.scheme = std::string(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  parts.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    parts.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  parts.host = util::ascii_lower(authority);
  parts.scheme = util::ascii_lower(parts.scheme);
  return parts;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool path_under(std::string_view path, std::string_view prefix) {
  if (prefix.empty() || prefix == "/") {
    return true;
  }
  std::string_view trimmed = prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix;
  return path.substr(0, trimmed.size()) == trimmed &&
         (path.size() == trimmed.size() || path[trimmed.size()] == '/');
}

// apt_auth.conf(5): netrc-like tokens; `machine` starts an entry.
std::vector<Entry> parse_auth_conf(const std::string& text) {
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '#') {
      while (i < text.size() && text[i] != '\n') {
        ++i;
      }
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0) {
      ++i;
    }
    tokens.emplace_back(text.substr(start, i - start));
  }
  std::vector<Entry> entries;
  for (size_t t = 0; t + 1 < tokens.size(); t += 2) {
    const std::string& key = tokens[t];
    const std::string& value = tokens[t + 1];
    if (key == "machine") {
      Entry entry;
      std::string machine = value;
      size_t scheme_end = machine.find("://");
      if (scheme_end != std::string::npos) {
        entry.scheme = machine.substr(0, scheme_end);
        machine = machine.substr(scheme_end + 3);
      } else {
        entry.https_only = true;  // apt sends scheme-less entries over https only
      }
      size_t slash = machine.find('/');
      entry.host = util::ascii_lower(machine.substr(0, slash));
      entry.path = slash == std::string::npos ? "" : machine.substr(slash);
      entries.push_back(std::move(entry));
    } else if (!entries.empty() && key == "login") {
      entries.back().credentials.login = value;
    } else if (!entries.empty() && key == "password") {
      entries.back().credentials.password = value;
    }
  }
  return entries;
}

void read_auth_conf(Store& s) {
  s.auth_conf_read = true;
  std::filesystem::path apt = s.apt_root / "etc/apt";
  std::vector<std::filesystem::path> files = {apt / "auth.conf"};
  std::error_code ec;
  std::vector<std::filesystem::path> parts;
  for (const auto& entry : std::filesystem::directory_iterator(apt / "auth.conf.d", ec)) {
    if (entry.path().extension() == ".conf") {
      parts.push_back(entry.path());
    }
  }
  std::sort(parts.begin(), parts.end());
  files.insert(files.end(), parts.begin(), parts.end());
  for (const auto& file : files) {
    auto text = util::read_file(file);
    if (text.ok()) {
      auto entries = parse_auth_conf(*text);
      s.auth_conf.insert(s.auth_conf.end(), entries.begin(), entries.end());
    }
  }
}

// The entry whose host matches and whose path prefix is the longest.
const Entry* best_match(const std::vector<Entry>& entries, const Parts& url) {
  const Entry* best = nullptr;
  for (const Entry& entry : entries) {
    if (!entry.scheme.empty() && entry.scheme != url.scheme) {
      continue;
    }
    if (entry.scheme.empty() && entry.https_only && url.scheme != "https") {
      continue;
    }
    // A machine without a port matches the host on any port, as apt does.
    std::string host = url.host;
    if (entry.host.find(':') == std::string::npos) {
      host = host.substr(0, host.find(':'));
    }
    if (entry.host != host || !path_under(url.path, entry.path)) {
      continue;
    }
    if (best == nullptr || entry.path.size() > best->path.size()) {
      best = &entry;
    }
  }
  return best;
}

}  // namespace

std::string strip_credentials(std::string_view url) {
  auto parts = split_url(url);
  if (!parts || parts->userinfo.empty()) {
    return std::string(url);
  }
  Entry entry;
  entry.scheme = parts->scheme;
  entry.host = parts->host;
  entry.path = parts->path;
  size_t colon = parts->userinfo.find(':');
  entry.credentials.login = percent_decode(parts->userinfo.substr(0, colon));
  if (colon != std::string::npos) {
    entry.credentials.password = percent_decode(parts->userinfo.substr(colon + 1));
  }
  {
    Store& s = store();
    std::lock_guard lock(s.mutex);
    s.remembered.push_back(std::move(entry));
  }
  return parts->scheme + "://" + parts->host + parts->path;
}

std::string redact_url(std::string_view url) {
  auto parts = split_url(url);
  if (!parts || parts->userinfo.empty()) {
    return std::string(url);
  }
  return parts->scheme + "://***@" + parts->host + parts->path;
}

std::optional<Credentials> credentials_for(std::string_view url) {
  auto parts = split_url(url);
  if (!parts || !parts->userinfo.empty() || (parts->scheme != "http" && parts->scheme != "https")) {
    return std::nullopt;
  }
  Store& s = store();
  std::lock_guard lock(s.mutex);
  if (const Entry* found = best_match(s.remembered, *parts)) {
    return found->credentials;
  }
  if (!s.auth_conf_read) {
    read_auth_conf(s);
  }
  if (const Entry* found = best_match(s.auth_conf, *parts)) {
    return found->credentials;
  }
  return std::nullopt;
}

void reset_credentials_for_tests(const std::filesystem::path& root) {
  Store& s = store();
  std::lock_guard lock(s.mutex);
  s.remembered.clear();
  s.auth_conf.clear();
  s.auth_conf_read = false;
  s.apt_root = root;
}

}  // namespace distill::net
