// Spec parser: YAML text -> Spec, validating as it goes and collecting every problem.
//
// Follows CONTRACT.md "Spec format". Each check records "FILE:LINE: what" and parsing
// carries on, so a spec with three mistakes gets three lines. yaml-cpp is used
// only through Node::Type()/Scalar()/Mark() (which do not throw on valid nodes) and
// the whole parse is wrapped in one catch for yaml-cpp's syntax errors.
#include "image/spec.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <system_error>

#include "archive/entry_containment.hpp"
#include "debian/architecture.hpp"
#include "debian/relation.hpp"
#include "debian/releases.hpp"
#include "net/credentials.hpp"
#include "util/file_io.hpp"
#include "util/nearest_word.hpp"

namespace distill::image {
namespace {

// A url distill can fetch: http:// or https:// with a host, or file: with an
// absolute path.
bool fetchable_url(const std::string& url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.rfind(scheme, 0) == 0) {
      return url.size() > scheme.size() && url[scheme.size()] != '/';
    }
  }
  return url.rfind("file:/", 0) == 0;
}

namespace fs = std::filesystem;

// Removes "." and empty components; fails on "..". `path` must start with '/'.
std::optional<std::string> normalise_absolute(std::string_view path) {
  std::string out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      return std::nullopt;
    }
    if (!part.empty() && part != ".") {
      out += '/';
      out += part;
    }
    pos = end + 1;
  }
  if (out.empty()) {
    out = "/";
  }
  return out;
}

bool parse_u32(const std::string& text, uint32_t& out) {
  if (text.empty() || text.size() > 10) {
    return false;
  }
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > UINT32_MAX) {
    return false;
  }
  out = static_cast<uint32_t>(value);
  return true;
}

// Octal permission bits: "755", "0755", "04755" (at most 07777).
bool parse_mode(const std::string& text, uint32_t& out) {
  if (text.size() < 3 || text.size() > 5) {
    return false;
  }
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return false;
    }
    value = value * 8 + static_cast<uint32_t>(c - '0');
  }
  if (value > 07777) {
    return false;
  }
  out = value;
  return true;
}

// "8000/tcp", "53/udp"; a bare "8000" means tcp (as in a Dockerfile's EXPOSE).
std::optional<std::string> normalise_port(const std::string& text) {
  size_t slash = text.find('/');
  std::string number = text.substr(0, slash);
  std::string proto = slash == std::string::npos ? "tcp" : text.substr(slash + 1);
  uint32_t port = 0;
  if (!parse_u32(number, port) || port == 0 || port > 65535 || number[0] == '0') {
    return std::nullopt;
  }
  if (proto != "tcp" && proto != "udp") {
    return std::nullopt;
  }
  return std::to_string(port) + "/" + proto;
}

bool valid_image_name(const std::string& name) {
  // OCI distribution repository name: path components of [a-z0-9]+ joined by
  // separators ".", "_", "__" or "-"+, components joined by "/".
  if (name.empty() || name.size() > 255) {
    return false;
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) {
      end = name.size();
    }
    std::string_view part(name.data() + start, end - start);
    if (part.empty()) {
      return false;
    }
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(part.front()) || !alnum(part.back())) {
      return false;
    }
    for (char c : part) {
      if (!alnum(c) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

// A Linux signal name ("SIGTERM", "SIGRTMIN+3", "SIGRTMAX-1") or a number
// 1..64, as container runtimes accept them; "SIGFOO" is not one.
bool valid_signal(const std::string& text) {
  uint32_t number = 0;
  if (parse_u32(text, number)) {
    return number >= 1 && number <= 64;
  }
  static const std::set<std::string> k_names = {
      "SIGABRT", "SIGALRM", "SIGBUS",   "SIGCHLD",   "SIGCLD",  "SIGCONT", "SIGFPE",    "SIGHUP",
      "SIGILL",  "SIGINT",  "SIGIO",    "SIGIOT",    "SIGKILL", "SIGPIPE", "SIGPOLL",   "SIGPROF",
      "SIGPWR",  "SIGQUIT", "SIGSEGV",  "SIGSTKFLT", "SIGSTOP", "SIGSYS",  "SIGTERM",   "SIGTRAP",
      "SIGTSTP", "SIGTTIN", "SIGTTOU",  "SIGURG",    "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH",
      "SIGXCPU", "SIGXFSZ", "SIGRTMIN", "SIGRTMAX"};
  if (k_names.count(text) != 0) {
    return true;
  }
  // SIGRTMIN+n / SIGRTMAX-n, n = 1..30 (real-time signals 34..64).
  for (const char* base : {"SIGRTMIN+", "SIGRTMAX-"}) {
    std::string prefix = base;
    if (text.rfind(prefix, 0) == 0 && parse_u32(text.substr(prefix.size()), number)) {
      return number >= 1 && number <= 30 && text.substr(prefix.size())[0] != '0';
    }
  }
  return false;
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Control characters as \xNN, for quoting a bad value in a one-line message.
std::string shown(std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (char c : text.substr(0, 80)) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      out += "\\x";
      out += k_hex[b >> 4];
      out += k_hex[b & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

// One side of USER: a name, or digits that are an id. The kernel's ids are 32
// bits and (uid_t)-1 means "no id", so an id is at most 4294967294.
bool valid_user_part(const std::string& part) {
  if (part.empty()) {
    return false;
  }
  if (part.find_first_not_of("0123456789") != std::string::npos) {
    return true;
  }
  uint32_t id = 0;
  return parse_u32(part, id) && id != UINT32_MAX;
}

// USER of an image config: "user", "uid", "user:group" or "uid:gid"; no
// control characters, no spaces, at most one ':' with both sides non-empty,
// and an id that is a possible id.
bool valid_user(const std::string& user) {
  if (has_control(user) || user.find(' ') != std::string::npos) {
    return false;
  }
  size_t colon = user.find(':');
  if (colon == std::string::npos) {
    return valid_user_part(user);
  }
  return user.find(':', colon + 1) == std::string::npos && valid_user_part(user.substr(0, colon)) &&
         valid_user_part(user.substr(colon + 1));
}

class SpecParser {
 public:
  SpecParser(std::string display, fs::path base_dir)
      : m_display(std::move(display)), m_base_dir(std::move(base_dir)) {}

  Result<Spec> parse(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::DeepRecursion& e) {  // its message is yaml-cpp's "bad file"
      int line = e.mark.is_null() ? 1 : e.mark.line + 1;
      return make_error(ErrorKind::InvalidInput, m_display + ":" + std::to_string(line) +
                                                     ": invalid YAML: nested too deeply");
    } catch (const YAML::Exception& e) {
      int line = e.mark.is_null() ? 1 : e.mark.line + 1;
      return make_error(ErrorKind::InvalidInput,
                        m_display + ":" + std::to_string(line) + ": invalid YAML: " + e.msg);
    }
    try {
      parse_root(root);
    } catch (const std::exception& e) {
      // yaml-cpp should not throw on the calls used here; report rather than crash.
      problem(1, std::string("invalid spec: ") + e.what());
    }
    if (!m_problems.empty()) {
      std::string message;
      for (const auto& p : m_problems) {
        if (!message.empty()) {
          message += '\n';
        }
        message += p;
      }
      return make_error(ErrorKind::InvalidInput, message);
    }
    return std::move(m_spec);
  }

  Spec& spec() { return m_spec; }

 private:
  static int line_of(const YAML::Node& node, int fallback) {
    if (!node.IsDefined() || node.Mark().is_null()) {
      return fallback;
    }
    return node.Mark().line + 1;
  }

  void problem(int line, const std::string& what) {
    m_problems.push_back(m_display + ":" + std::to_string(line) + ": " + what);
  }

  // A scalar as a string; a null (empty) value is rejected like any wrong type.
  bool get_string(const YAML::Node& node, int line, const std::string& what, std::string& out,
                  bool allow_nul = false) {
    if (!node.IsScalar()) {
      problem(line, what + " must be a string");
      return false;
    }
    if (!allow_nul && has_nul(node.Scalar(), line, what)) {
      return false;
    }
    out = node.Scalar();
    return true;
  }

  // No value of a spec may hold a NUL byte: nothing downstream (tar headers,
  // the config's C strings, exec) can carry one.
  bool has_nul(const std::string& text, int line, const std::string& what) {
    if (text.find('\0') == std::string::npos) {
      return false;
    }
    problem(line, what + " contains a NUL byte");
    return true;
  }

  bool get_u32(const YAML::Node& node, int line, const std::string& what, uint32_t& out) {
    if (!node.IsScalar() || !parse_u32(node.Scalar(), out)) {
      problem(line, what + " must be a non-negative integer");
      return false;
    }
    return true;
  }

  // A list of strings; a single string is not accepted (it is usually a mistake
  // in packages/entrypoint). `item_lines` gets each item's line.
  bool get_string_list(const YAML::Node& node, int line, const std::string& what,
                       std::vector<std::string>& out, std::vector<int>* item_lines = nullptr) {
    if (node.IsNull()) {
      out.clear();
      return true;
    }
    if (!node.IsSequence()) {
      problem(line, what + " must be a list of strings");
      return false;
    }
    bool ok = true;
    out.clear();
    for (const auto& item : node) {
      int item_line = line_of(item, line);
      if (!item.IsScalar()) {
        problem(item_line, what + " entries must be strings");
        ok = false;
        continue;
      }
      if (has_nul(item.Scalar(), item_line, what + " entry")) {
        ok = false;
        continue;
      }
      out.push_back(item.Scalar());
      if (item_lines != nullptr) {
        item_lines->push_back(item_line);
      }
    }
    return ok;
  }

  bool get_string_map(const YAML::Node& node, int line, const std::string& what,
                      std::map<std::string, std::string>& out,
                      std::map<std::string, int>* line_of_key = nullptr) {
    if (node.IsNull()) {
      return true;
    }
    if (!node.IsMap()) {
      problem(line, what + " must be a mapping of strings to strings");
      return false;
    }
    bool ok = true;
    for (const auto& kv : node) {
      int key_line = line_of(kv.first, line);
      if (!kv.first.IsScalar()) {
        problem(key_line, what + " keys must be strings");
        ok = false;
        continue;
      }
      const std::string& key = kv.first.Scalar();
      if (key.empty()) {
        problem(key_line, what + " keys must not be empty");
        ok = false;
        continue;
      }
      if (!kv.second.IsScalar()) {
        problem(line_of(kv.second, key_line), what + " value of '" + key + "' must be a string");
        ok = false;
        continue;
      }
      if (out.count(key) != 0) {
        problem(key_line, "duplicate key '" + key + "' in " + what);
        ok = false;
        continue;
      }
      if (has_nul(key, key_line, what + " key") ||
          has_nul(kv.second.Scalar(), line_of(kv.second, key_line),
                  what + " value of '" + key + "'")) {
        ok = false;
        continue;
      }
      if (line_of_key != nullptr) {
        (*line_of_key)[key] = key_line;
      }
      out[key] = kv.second.Scalar();
    }
    return ok;
  }

  // Iterates a mapping, checking keys against `allowed` and for duplicates, and
  // calls `handle(key, value, key_line)` for each known key.
  template <typename Handler>
  void for_each_key(const YAML::Node& map, const std::set<std::string>& allowed,
                    const std::string& where, Handler handle) {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      int key_line = line_of(kv.first, 1);
      if (!kv.first.IsScalar()) {
        problem(key_line, "keys must be strings" + where);
        continue;
      }
      const std::string& key = kv.first.Scalar();
      if (allowed.count(key) == 0) {
        std::string suggestion =
            util::nearest_word(key, std::vector<std::string>(allowed.begin(), allowed.end()));
        problem(key_line, "unknown key '" + key + "'" + where + util::did_you_mean(suggestion));
        continue;
      }
      if (!seen.insert(key).second) {
        problem(key_line, "duplicate key '" + key + "'" + where);
        continue;
      }
      handle(key, kv.second, key_line);
    }
  }

  void parse_root(const YAML::Node& root) {
    if (root.IsNull() || !root.IsDefined()) {
      problem(1, "the spec is empty");
      return;
    }
    if (!root.IsMap()) {
      problem(line_of(root, 1), "the spec must be a mapping of keys to values");
      return;
    }
    static const std::set<std::string> k_keys = {
        "name",    "from",  "release",  "sources",    "packages",    "exclude",     "archs",
        "files",   "trace", "accounts", "entrypoint", "cmd",         "env",         "user",
        "workdir", "ports", "volumes",  "labels",     "annotations", "stop-signal", "archives"};
    for_each_key(
        root, k_keys, "", [&](const std::string& key, const YAML::Node& value, int key_line) {
          m_spec.lines[key] = key_line;
          int line = line_of(value, key_line);
          if (key == "name") {
            if (get_string(value, line, "name", m_spec.name) && !valid_image_name(m_spec.name)) {
              problem(line, "name '" + shown(m_spec.name) +
                                "' is not a valid image name (lowercase letters, digits, '.', "
                                "'_', '-', '/')");
            }
          } else if (key == "from") {
            if (get_string(value, line, "from", m_spec.from) && m_spec.from.empty()) {
              problem(line, "from must not be empty");
            }
          } else if (key == "release") {
            if (get_string(value, line, "release", m_spec.release) &&
                !debian::is_buildable_release(m_spec.release)) {
              problem(line, "release '" + m_spec.release + "' is not one distill builds (" +
                                debian::buildable_releases_text() + ")");
            }
          } else if (key == "sources") {
            parse_sources(value, line);
          } else if (key == "packages" || key == "exclude") {
            auto& list = key == "packages" ? m_spec.packages : m_spec.exclude;
            std::vector<int> lines;
            get_string_list(value, line, key, list, &lines);
            for (size_t i = 0; i < list.size(); ++i) {
              // `exclude` takes names only; `packages` a version or architecture too.
              bool valid = key == "packages" ? debian::parse_package_request(list[i]).ok()
                                             : debian::is_valid_package_name(list[i]);
              if (!valid) {
                problem(lines[i],
                        key + " entry '" + shown(list[i]) + "' is not a package name" +
                            (key == "packages" ? " (NAME, NAME=VERSION or NAME:ARCH)" : ""));
              }
              m_spec.lines.emplace(key + ":" + list[i], lines[i]);
            }
          } else if (key == "archs") {
            std::vector<int> lines;
            get_string_list(value, line, "archs", m_spec.archs, &lines);
            for (size_t i = 0; i < m_spec.archs.size(); ++i) {
              if (check_arch(m_spec.archs[i], lines[i]) &&
                  std::find(m_spec.archs.begin(), m_spec.archs.begin() + static_cast<long>(i),
                            m_spec.archs[i]) != m_spec.archs.begin() + static_cast<long>(i)) {
                problem(lines[i], "archs: " + m_spec.archs[i] + " given twice");
              }
            }
          } else if (key == "files") {
            parse_files(value, line);
          } else if (key == "archives") {
            parse_archives(value, line);
          } else if (key == "trace") {
            std::vector<int> lines;
            get_string_list(value, line, "trace", m_spec.trace, &lines);
            for (size_t i = 0; i < m_spec.trace.size(); ++i) {
              auto norm = image_path(m_spec.trace[i], lines[i], "trace path");
              if (!norm) {
                continue;
              }
              m_spec.trace[i] = *norm;
              m_spec.lines.emplace("trace:" + *norm, lines[i]);
            }
          } else if (key == "accounts") {
            parse_accounts(value, line);
          } else if (key == "entrypoint" || key == "cmd") {
            std::vector<std::string> list;
            if (get_string_list(value, line, key, list)) {
              (key == "entrypoint" ? m_spec.entrypoint : m_spec.cmd) = std::move(list);
            }
          } else if (key == "env") {
            std::map<std::string, int> lines;
            get_string_map(value, line, "env", m_spec.env, &lines);
            for (const auto& [name, text] : m_spec.env) {
              int at = lines.count(name) != 0 ? lines[name] : line;
              if (name.empty() || name.find('=') != std::string::npos || has_control(name)) {
                problem(at, "env name '" + shown(name) +
                                "' must be non-empty and contain no '=' or control character");
              } else if (text.find('\n') != std::string::npos ||
                         text.find('\r') != std::string::npos) {
                // The config's Env is "NAME=value" lines for many tools.
                problem(at, "env value of '" + name + "' contains a line break");
              }
            }
          } else if (key == "user") {
            std::string user;
            if (get_string(value, line, "user", user)) {
              if (user.empty()) {
                problem(line, "user must not be empty");
              } else if (!valid_user(user)) {
                problem(line, "user '" + shown(user) +
                                  "' is not like \"name\", \"uid\", \"uid:gid\" or "
                                  "\"name:group\"");
              }
              m_spec.user = user;
            }
          } else if (key == "workdir") {
            std::string dir;
            if (get_string(value, line, "workdir", dir)) {
              if (auto norm = image_path(dir, line, "workdir")) {
                m_spec.workdir = *norm;
              }
            }
          } else if (key == "ports") {
            std::vector<int> lines;
            std::vector<std::string> ports;
            get_string_list(value, line, "ports", ports, &lines);
            for (size_t i = 0; i < ports.size(); ++i) {
              auto norm = normalise_port(ports[i]);
              if (!norm) {
                problem(lines[i], "port '" + ports[i] + "' is not like \"8000/tcp\" or \"53/udp\"");
              } else if (std::find(m_spec.ports.begin(), m_spec.ports.end(), *norm) ==
                         m_spec.ports.end()) {
                m_spec.ports.push_back(*norm);
              }
            }
          } else if (key == "volumes") {
            std::vector<int> lines;
            std::vector<std::string> volumes;
            get_string_list(value, line, "volumes", volumes, &lines);
            for (size_t i = 0; i < volumes.size(); ++i) {
              if (auto norm = image_path(volumes[i], lines[i], "volume")) {
                m_spec.volumes.push_back(*norm);
              }
            }
          } else if (key == "labels") {
            get_string_map(value, line, "labels", m_spec.labels);
          } else if (key == "annotations") {
            get_string_map(value, line, "annotations", m_spec.annotations);
          } else if (key == "stop-signal") {
            if (get_string(value, line, "stop-signal", m_spec.stop_signal) &&
                !valid_signal(m_spec.stop_signal)) {
              problem(line, "stop-signal '" + m_spec.stop_signal +
                                "' is not a signal name like SIGTERM or a number");
            }
          }
        });
  }

  void parse_sources(const YAML::Node& node, int line) {
    if (node.IsNull()) {
      return;
    }
    if (!node.IsSequence()) {
      problem(line, "sources must be a list of mappings");
      return;
    }
    static const std::set<std::string> k_keys = {"url", "suites", "components", "keyring"};
    for (const auto& entry : node) {
      int entry_line = line_of(entry, line);
      if (!entry.IsMap()) {
        problem(entry_line, "sources entries must be mappings (url, suites, components, keyring)");
        continue;
      }
      SpecSource source;
      source.line = entry_line;
      bool has_components = false;
      for_each_key(entry, k_keys, " in sources entry",
                   [&](const std::string& key, const YAML::Node& value, int key_line) {
                     int vline = line_of(value, key_line);
                     if (key == "url") {
                       get_string(value, vline, "url", source.url);
                     } else if (key == "suites") {
                       get_string_list(value, vline, "suites", source.suites);
                     } else if (key == "components") {
                       has_components = true;
                       get_string_list(value, vline, "components", source.components);
                     } else if (key == "keyring") {
                       get_string(value, vline, "keyring", source.keyring);
                     }
                   });
      // user:pass@ is kept by the HTTP client only, never in the spec's url
      // (which reaches lock files, cached resolutions and messages).
      source.url = net::strip_credentials(source.url);
      if (source.url.empty()) {
        problem(entry_line, "sources entry needs a url");
      } else if (!fetchable_url(source.url)) {
        problem(entry_line, "sources url '" + source.url +
                                "' must be http://HOST/..., https://HOST/... or file:/PATH");
      }
      if (source.suites.empty()) {
        problem(entry_line, "sources entry needs at least one suite");
      }
      if (!has_components) {
        source.components = {"main"};
      } else if (source.components.empty()) {
        problem(entry_line, "sources entry needs at least one component");
      }
      if (!source.keyring.empty() && source.keyring[0] != '/') {
        source.keyring = (m_base_dir / source.keyring).lexically_normal().string();
      }
      if (std::error_code ec;
          !source.keyring.empty() && !std::filesystem::is_regular_file(source.keyring, ec)) {
        problem(entry_line, "keyring '" + source.keyring + "' is not a file");
      }
      m_spec.sources.push_back(std::move(source));
    }
  }

  void parse_files(const YAML::Node& node, int line) {
    if (node.IsNull()) {
      return;
    }
    if (!node.IsSequence()) {
      problem(line, "files must be a list of mappings");
      return;
    }
    static const std::set<std::string> k_keys = {"src",  "dst",  "content", "symlink",
                                                 "type", "mode", "uid",     "gid"};
    std::map<std::string, int> dst_lines;
    for (const auto& entry : node) {
      int entry_line = line_of(entry, line);
      if (!entry.IsMap()) {
        problem(entry_line, "files entries must be mappings (src/content/symlink/type, dst)");
        continue;
      }
      SpecFile file;
      file.line = entry_line;
      std::optional<std::string> src, content, symlink, type, dst;
      bool ok = true;
      bool dst_seen = false;
      int kinds = 0;
      for_each_key(entry, k_keys, " in files entry",
                   [&](const std::string& key, const YAML::Node& value, int key_line) {
                     int vline = line_of(value, key_line);
                     dst_seen = dst_seen || key == "dst";
                     if (key == "src" || key == "content" || key == "symlink" || key == "type") {
                       ++kinds;  // a kind given but refused has its own message
                     }
                     std::string text;
                     if (key == "uid" || key == "gid") {
                       ok &= get_u32(value, vline, key, key == "uid" ? file.uid : file.gid);
                       return;
                     }
                     // A file's content may be binary; every other value is a
                     // name or path, where a NUL byte is refused.
                     if (!get_string(value, vline, key, text, key == "content")) {
                       ok = false;
                       return;
                     }
                     if (key == "src") {
                       src = text;
                     } else if (key == "dst") {
                       dst = text;
                     } else if (key == "content") {
                       content = text;
                     } else if (key == "symlink") {
                       symlink = text;
                     } else if (key == "type") {
                       type = text;
                       if (text != "directory") {
                         problem(vline, "type '" + text + "' is not supported (only 'directory')");
                         ok = false;
                       }
                     } else if (key == "mode") {
                       uint32_t mode = 0;
                       if (!parse_mode(text, mode)) {
                         problem(vline, "mode '" + text + "' is not an octal mode like \"0755\"");
                         ok = false;
                       } else {
                         file.mode = mode;
                       }
                     }
                   });
      if (kinds != 1) {
        problem(entry_line, kinds == 0
                                ? "files entry needs one of src, content, symlink or "
                                  "type: directory"
                                : "files entry must have only one of src, content, symlink or "
                                  "type: directory");
        ok = false;
      }
      if (!dst) {
        if (!dst_seen) {  // a dst that was given but refused has its own message
          problem(entry_line, "files entry needs a dst");
        }
        continue;
      }
      bool dst_is_dir = !dst->empty() && dst->back() == '/';
      auto norm = image_path(*dst, entry_line, "dst");
      if (!norm) {
        continue;
      }
      if (*norm == "/" && !type) {
        problem(entry_line, "dst '/' is the image root; name a path below it");
        continue;
      }
      file.dst = *norm;
      if (src) {
        if (src->empty()) {
          problem(entry_line, "src must not be empty");
          continue;
        }
        file.src = fs::path(*src).is_absolute() ? fs::path(*src) : m_base_dir / *src;
        file.src = file.src.lexically_normal();
        if (file.src.has_filename() == false && file.src != file.src.root_path()) {
          file.src = file.src.parent_path();
        }
        std::error_code ec;
        auto status = fs::status(file.src, ec);
        if (ec || !fs::exists(status)) {
          problem(entry_line, "src '" + *src + "' does not exist (" + file.src.string() + ")");
          ok = false;
        } else if (fs::is_directory(status)) {
          file.kind = SpecFile::Kind::Directory;
        } else if (fs::is_regular_file(status)) {
          file.kind = SpecFile::Kind::File;
          if (dst_is_dir) {
            file.dst = (*norm == "/" ? "" : *norm) + "/" + file.src.filename().string();
          }
        } else {
          problem(entry_line, "src '" + *src + "' is neither a regular file nor a directory");
          ok = false;
        }
      } else if (content) {
        file.kind = SpecFile::Kind::Content;
        file.content = *content;
      } else if (symlink) {
        file.kind = SpecFile::Kind::Symlink;
        file.symlink_target = *symlink;
        if (symlink->empty()) {
          problem(entry_line, "symlink target must not be empty");
          ok = false;
        }
      } else {
        file.kind = SpecFile::Kind::EmptyDirectory;
      }
      if (auto bad = archive::layer_path_problem(file.dst); !bad.empty()) {
        problem(entry_line, "dst '" + shown(file.dst) + "': " + bad);
        ok = false;
      }
      auto [it, inserted] = dst_lines.emplace(file.dst, entry_line);
      if (!inserted) {
        problem(entry_line, "duplicate dst '" + file.dst + "' (first at line " +
                                std::to_string(it->second) + ")");
        ok = false;
      }
      if (ok) {
        m_spec.files.push_back(std::move(file));
      }
    }
    check_files_below_non_directories();
  }

  // What an entry puts at its dst when that is not a directory ("a file", "a
  // symlink"); "" for a directory. A `src` that is itself a symlink gives one.
  static std::string non_directory(const SpecFile& file) {
    switch (file.kind) {
      case SpecFile::Kind::Content:
        return "a file";
      case SpecFile::Kind::Symlink:
        return "a symlink";
      case SpecFile::Kind::EmptyDirectory:
        return "";
      case SpecFile::Kind::File:
      case SpecFile::Kind::Directory: {
        std::error_code ec;
        if (fs::is_symlink(fs::symlink_status(file.src, ec))) {
          return "a symlink";
        }
        return file.kind == SpecFile::Kind::File ? "a file" : "";
      }
    }
    return "";
  }

  // An entry inside another entry's file or symlink gives a layer no unpacker
  // can apply (mkdir over a file) or one that writes through its own symlink.
  void check_files_below_non_directories() {
    std::map<std::string, std::pair<int, std::string>> leaves;  // dst -> (line, what)
    for (const auto& file : m_spec.files) {
      if (auto what = non_directory(file); !what.empty()) {
        leaves.emplace(file.dst, std::make_pair(file.line, what));
      }
    }
    for (const auto& file : m_spec.files) {
      for (size_t slash = file.dst.rfind('/'); slash != std::string::npos && slash > 0;
           slash = file.dst.rfind('/', slash - 1)) {
        auto leaf = leaves.find(file.dst.substr(0, slash));
        if (leaf != leaves.end()) {
          problem(file.line, "dst '" + file.dst + "' is inside '" + leaf->first + "', which line " +
                                 std::to_string(leaf->second.first) + " makes " +
                                 leaf->second.second);
          break;
        }
      }
    }
  }

  bool check_arch(const std::string& arch, int line) {
    auto known = debian::check_architecture(arch);
    if (!known.ok()) {
      problem(line, known.error().message);
    }
    return known.ok();
  }

  // An absolute path in the image, normalised; a problem (naming `what`) if not.
  std::optional<std::string> image_path(const std::string& text, int line,
                                        const std::string& what) {
    auto norm = text.empty() || text[0] != '/' ? std::nullopt : normalise_absolute(text);
    if (!norm) {
      problem(line, what + " '" + text + "' must be absolute and must not contain '..'");
    }
    return norm;
  }

  // url, sha256 and arch of one download (an `archives:` entry or one of its
  // `downloads:`); false when one was refused (already reported).
  bool archive_download_key(const std::string& key, const YAML::Node& value, int vline,
                            SpecArchiveDownload& download) {
    std::string text;
    if (!get_string(value, vline, key, text)) {
      return false;
    }
    if (key == "url") {
      download.url = net::strip_credentials(text);
      if (!fetchable_url(download.url)) {
        problem(vline, "archive url '" + shown(download.url) +
                           "' must be http://HOST/..., https://HOST/... or file:/PATH");
        return false;
      }
    } else if (key == "sha256") {
      std::string hex = text;
      std::transform(hex.begin(), hex.end(), hex.begin(),
                     [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
      bool valid = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
      if (!valid) {
        problem(vline, "sha256 '" + shown(text) + "' is not 64 hexadecimal digits");
        return false;
      }
      text = hex;
      download.sha256 = text;
    } else if (key == "arch") {
      if (!check_arch(text, vline)) {
        return false;
      }
      download.arch = text;
    }
    return true;
  }

  // Checks that a download has both a url and a sha256.
  bool complete_download(const SpecArchiveDownload& download, int line, bool refused,
                         const std::string& where) {
    if (refused) {
      return false;
    }
    if (download.url.empty()) {
      problem(line, where + " needs a url");
      return false;
    }
    if (download.sha256.empty()) {
      problem(line, where + " needs a sha256 (the archive is verified before it is used)");
      return false;
    }
    return true;
  }

  void parse_archives(const YAML::Node& node, int line) {
    if (node.IsNull()) {
      return;
    }
    if (!node.IsSequence()) {
      problem(line, "archives must be a list of mappings");
      return;
    }
    static const std::set<std::string> k_keys = {
        "name", "version", "url",     "sha256", "arch", "downloads", "strip",
        "dst",  "include", "exclude", "uid",    "gid",  "mode",      "dir-mode"};
    static const std::set<std::string> k_download_keys = {"url", "sha256", "arch"};
    for (const auto& entry : node) {
      int entry_line = line_of(entry, line);
      if (!entry.IsMap()) {
        problem(entry_line, "archives entries must be mappings (url, sha256, dst, ...)");
        continue;
      }
      SpecArchive archive;
      archive.line = entry_line;
      SpecArchiveDownload single;
      single.line = entry_line;
      bool ok = true;
      bool has_single = false;
      bool single_refused = false;
      std::optional<YAML::Node> downloads;  // a handle: the iteration's node goes away
      int downloads_line = entry_line;
      for_each_key(
          entry, k_keys, " in archives entry",
          [&](const std::string& key, const YAML::Node& value, int key_line) {
            int vline = line_of(value, key_line);
            std::string text;
            if (key == "url" || key == "sha256" || key == "arch") {
              has_single = true;
              single_refused |= !archive_download_key(key, value, vline, single);
            } else if (key == "downloads") {
              downloads = value;
              downloads_line = vline;
            } else if (key == "uid" || key == "gid") {
              ok &= get_u32(value, vline, key, key == "uid" ? archive.uid : archive.gid);
            } else if (key == "strip") {
              ok &= get_u32(value, vline, "strip", archive.strip);
            } else if (key == "include" || key == "exclude") {
              std::vector<int> lines;
              auto& list = key == "include" ? archive.include : archive.exclude;
              ok &= get_string_list(value, vline, key, list, &lines);
              for (size_t i = 0; i < list.size(); ++i) {
                if (list[i].empty()) {
                  problem(lines[i], key + " pattern must not be empty");
                  ok = false;
                }
              }
            } else if (!get_string(value, vline, key, text)) {
              ok = false;
            } else if (key == "name" || key == "version") {
              bool valid = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                       std::string_view("._+-~").find(c) != std::string_view::npos;
              });
              if (!valid) {
                problem(vline, key + " '" + shown(text) +
                                   "' must be letters, digits and '.', '_', '+', '-', '~'");
                ok = false;
              }
              (key == "name" ? archive.name : archive.version) = text;
            } else if (key == "dst") {
              auto norm = image_path(text, vline, "dst");
              ok &= norm.has_value();
              archive.dst = norm.value_or("/");
              if (auto bad = archive::layer_path_problem(archive.dst); !bad.empty()) {
                problem(vline, "dst '" + shown(archive.dst) + "': " + bad);
                ok = false;
              }
            } else if (key == "mode" || key == "dir-mode") {
              uint32_t mode = 0;
              if (!parse_mode(text, mode)) {
                problem(vline, key + " '" + text + "' is not an octal mode like \"0755\"");
                ok = false;
              } else {
                (key == "mode" ? archive.mode : archive.dir_mode) = mode;
              }
            }
          });
      if (has_single && downloads) {
        problem(entry_line, "archives entry has both url/sha256/arch and downloads; use one");
        continue;
      }
      if (downloads) {
        ok &= parse_archive_downloads(*downloads, downloads_line, k_download_keys, archive);
      } else if (!has_single) {
        problem(entry_line, "archives entry needs a url and a sha256 (or downloads)");
        continue;
      } else if (complete_download(single, entry_line, single_refused, "archives entry")) {
        archive.downloads.push_back(single);
      } else {
        ok = false;
      }
      if (ok) {
        m_spec.archives.push_back(std::move(archive));
      }
    }
  }

  bool parse_archive_downloads(const YAML::Node& node, int line, const std::set<std::string>& keys,
                               SpecArchive& archive) {
    if (!node.IsSequence() || node.size() == 0) {
      problem(line, "downloads must be a non-empty list of mappings (arch, url, sha256)");
      return false;
    }
    bool ok = true;
    std::map<std::string, int> arch_lines;
    for (const auto& item : node) {
      int item_line = line_of(item, line);
      if (!item.IsMap()) {
        problem(item_line, "downloads entries must be mappings (arch, url, sha256)");
        ok = false;
        continue;
      }
      SpecArchiveDownload download;
      download.line = item_line;
      bool refused = false;
      for_each_key(item, keys, " in downloads entry",
                   [&](const std::string& key, const YAML::Node& value, int key_line) {
                     refused |=
                         !archive_download_key(key, value, line_of(value, key_line), download);
                   });
      if (!complete_download(download, item_line, refused, "downloads entry")) {
        ok = false;
        continue;
      }
      auto [it, inserted] = arch_lines.emplace(download.arch, item_line);
      if (!inserted) {
        problem(item_line, "downloads entry for " +
                               (download.arch.empty() ? std::string("any architecture")
                                                      : "'" + download.arch + "'") +
                               " given twice (first at line " + std::to_string(it->second) + ")");
        ok = false;
        continue;
      }
      archive.downloads.push_back(std::move(download));
    }
    return ok;
  }

  void parse_accounts(const YAML::Node& node, int line) {
    if (!node.IsMap()) {
      problem(line, "accounts must be a mapping with users and groups");
      return;
    }
    static const std::set<std::string> k_keys = {"users", "groups"};
    for_each_key(node, k_keys, " in accounts",
                 [&](const std::string& key, const YAML::Node& value, int key_line) {
                   int vline = line_of(value, key_line);
                   if (key == "users") {
                     m_spec.users = parse_users(value, vline);
                   } else {
                     m_spec.groups = parse_groups(value, vline);
                   }
                 });
  }

  std::vector<SpecUser> parse_users(const YAML::Node& node, int line) {
    std::vector<SpecUser> users;
    if (node.IsNull()) {
      return users;
    }
    if (!node.IsSequence()) {
      problem(line, "users must be a list of mappings");
      return users;
    }
    static const std::set<std::string> k_keys = {"name", "uid", "gid", "home", "shell"};
    std::set<std::string> names;
    for (const auto& entry : node) {
      int entry_line = line_of(entry, line);
      if (!entry.IsMap()) {
        problem(entry_line, "users entries must be mappings (name, uid, gid, home, shell)");
        continue;
      }
      SpecUser user;
      bool has_uid = false, has_gid = false, has_home = false, bad = false;
      for_each_key(entry, k_keys, " in users entry",
                   [&](const std::string& key, const YAML::Node& value, int key_line) {
                     int vline = line_of(value, key_line);
                     if (key == "name") {
                       get_string(value, vline, "name", user.name);
                     } else if (key == "uid") {
                       has_uid = true;  // a bad value is reported once, here
                       bad |= !get_u32(value, vline, "uid", user.uid);
                     } else if (key == "gid") {
                       has_gid = true;
                       bad |= !get_u32(value, vline, "gid", user.gid);
                     } else if (key == "home") {
                       has_home = get_string(value, vline, "home", user.home);
                     } else if (key == "shell") {
                       get_string(value, vline, "shell", user.shell);
                     }
                   });
      if (!valid_account_name(user.name)) {
        problem(entry_line, "user name '" + shown(user.name) + "' is not valid");
        continue;
      }
      if (!names.insert(user.name).second) {
        problem(entry_line, "duplicate user '" + user.name + "'");
      }
      if (!has_uid) {
        problem(entry_line, "user '" + user.name + "' needs a uid");
        continue;
      }
      if (bad) {
        continue;
      }
      if (!has_gid) {
        user.gid = user.uid;
      }
      if (!has_home) {
        user.home = user.uid == 0 ? "/root" : "/home/" + user.name;
      } else if (user.home.empty() || user.home[0] != '/') {
        problem(entry_line, "home '" + shown(user.home) + "' must be absolute");
        continue;
      }
      if (!valid_account_field(user.home)) {
        problem(entry_line, "home '" + shown(user.home) +
                                "' must not contain ':' or control characters (/etc/passwd "
                                "separates fields with ':' and entries with newlines)");
        continue;
      }
      if (!valid_account_field(user.shell)) {
        problem(entry_line, "shell '" + shown(user.shell) +
                                "' must not contain ':' or control characters (/etc/passwd "
                                "separates fields with ':' and entries with newlines)");
        continue;
      }
      users.push_back(std::move(user));
    }
    return users;
  }

  std::vector<SpecGroup> parse_groups(const YAML::Node& node, int line) {
    std::vector<SpecGroup> groups;
    if (node.IsNull()) {
      return groups;
    }
    if (!node.IsSequence()) {
      problem(line, "groups must be a list of mappings");
      return groups;
    }
    static const std::set<std::string> k_keys = {"name", "gid", "members"};
    std::set<std::string> names;
    for (const auto& entry : node) {
      int entry_line = line_of(entry, line);
      if (!entry.IsMap()) {
        problem(entry_line, "groups entries must be mappings (name, gid, members)");
        continue;
      }
      SpecGroup group;
      bool has_gid = false, bad = false;
      for_each_key(entry, k_keys, " in groups entry",
                   [&](const std::string& key, const YAML::Node& value, int key_line) {
                     int vline = line_of(value, key_line);
                     if (key == "name") {
                       get_string(value, vline, "name", group.name);
                     } else if (key == "gid") {
                       has_gid = true;
                       bad |= !get_u32(value, vline, "gid", group.gid);
                     } else if (key == "members") {
                       get_string_list(value, vline, "members", group.members);
                     }
                   });
      if (!valid_account_name(group.name)) {
        problem(entry_line, "group name '" + shown(group.name) + "' is not valid");
        continue;
      }
      group.line = entry_line;
      for (const auto& member : group.members) {
        if (!valid_account_name(member)) {
          problem(entry_line, "member '" + shown(member) + "' of group '" + group.name +
                                  "' is not a valid user name");
          bad = true;
        }
      }
      if (!names.insert(group.name).second) {
        problem(entry_line, "duplicate group '" + group.name + "'");
      }
      if (!has_gid) {
        problem(entry_line, "group '" + group.name + "' needs a gid");
        continue;
      }
      if (bad) {
        continue;
      }
      groups.push_back(std::move(group));
    }
    return groups;
  }

  std::string m_display;
  fs::path m_base_dir;
  Spec m_spec;
  std::vector<std::string> m_problems;
};

}  // namespace

std::string SpecArchive::label() const {
  if (!name.empty()) {
    return version.empty() ? name : name + " " + version;
  }
  return downloads.empty() ? std::string("archive") : downloads.front().url;
}

std::string Spec::where(const std::string& key) const {
  auto it = lines.find(key);
  if (it == lines.end()) {
    return display_name;
  }
  return display_name + ":" + std::to_string(it->second);
}

std::string Spec::record_name() const {
  return file.empty() ? display_name : file.filename().string();
}

Result<Spec> parse_spec_text(std::string_view yaml_text, const std::string& display_name,
                             const std::filesystem::path& base_dir) {
  SpecParser parser(display_name, base_dir);
  auto result = parser.parse(yaml_text);
  if (result.ok()) {
    result->display_name = display_name;
  }
  return result;
}

Result<Spec> parse_spec(std::string_view yaml_text, const std::filesystem::path& file) {
  std::error_code ec;
  fs::path base = file.parent_path();
  if (base.empty()) {
    base = ".";
  }
  fs::path abs_base = fs::absolute(base, ec);
  if (ec) {
    abs_base = base;
  }
  auto result = parse_spec_text(yaml_text, file.string(), abs_base.lexically_normal());
  if (result.ok()) {
    result->file = file;
  }
  return result;
}

Result<Spec> load_spec(const std::filesystem::path& file) {
  auto text = util::read_file(file);
  if (!text.ok()) {
    return text.error().context("reading spec");
  }
  return parse_spec(*text, file);
}

}  // namespace distill::image
