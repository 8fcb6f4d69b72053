// APT sources parsing (sources.list(5)); see apt_sources.hpp.
#include "debian/apt_sources.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "debian/control.hpp"
#include "debian/releases.hpp"
#include "net/credentials.hpp"
#include "util/file_io.hpp"
#include "util/text.hpp"

namespace distill::debian {

namespace {

// `codename`'s sources from the host's sources of other Debian releases (see
// read_host_sources); a suite that is no Debian codename (stable, sid) is left out.
std::vector<AptSource> derive_release_sources(const std::vector<AptSource>& host,
                                              std::string_view codename) {
  std::vector<AptSource> derived;
  for (const AptSource& source : host) {
    AptSource copy = source;
    copy.suites.clear();
    for (const std::string& suite : source.suites) {
      std::string release = suite.substr(0, suite.find('-'));
      if (version_id(release).empty()) {
        continue;
      }
      std::string renamed = std::string(codename) + suite.substr(release.size());
      if (std::find(copy.suites.begin(), copy.suites.end(), renamed) == copy.suites.end()) {
        copy.suites.push_back(std::move(renamed));
      }
    }
    if (copy.suites.empty()) {
      continue;
    }
    if (!is_inline_key(copy.keyring) && copy.keyring.find("debian-archive-") != std::string::npos) {
      copy.keyring = k_default_keyring;
    }
    copy.origin += " (" + std::string(codename) + " derived from it)";
    bool twin = std::any_of(derived.begin(), derived.end(), [&](const AptSource& d) {
      return d.url == copy.url && d.suites == copy.suites && d.components == copy.components;
    });
    if (!twin) {
      derived.push_back(std::move(copy));
    }
  }
  return derived;
}

std::string strip_slash(std::string_view url) {
  while (url.size() > 1 && url.back() == '/') {
    url.remove_suffix(1);
  }
  return std::string(url);
}

std::vector<std::string> to_strings(const std::vector<std::string_view>& words) {
  return {words.begin(), words.end()};
}

bool is_no(std::string_view value) {
  return iequals(value, "no") || iequals(value, "false") || iequals(value, "0");
}

// An inline Signed-By key: continuation lines lose their first space and " ."
// becomes an empty line.
std::string unfold_key(std::string_view value) {
  std::string out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find('\n', start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    std::string_view line = value.substr(start, end - start);
    start = end + 1;
    line = trim(line);
    if (line == ".") {
      line = {};
    }
    if (line.empty() && out.empty()) {
      continue;
    }
    out += line;
    out += '\n';
  }
  return out;
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  for (std::string_view word : split_words(value)) {
    size_t start = 0;
    while (start <= word.size()) {
      size_t comma = word.find(',', start);
      if (comma == std::string_view::npos) {
        comma = word.size();
      }
      if (comma > start) {
        out.emplace_back(word.substr(start, comma - start));
      }
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

bool is_inline_key(std::string_view keyring) {
  return keyring.find("-----BEGIN PGP") != std::string_view::npos;
}

Result<std::vector<AptSource>> parse_sources_deb822(std::string_view text,
                                                    const std::string& origin) {
  DISTILL_TRY(auto paragraphs, parse_control(text, origin));
  std::vector<AptSource> sources;
  for (const Paragraph& p : paragraphs) {
    std::string where = origin + ":" + std::to_string(p.line());
    const std::string* enabled = p.find("Enabled");
    if (enabled != nullptr && is_no(trim(*enabled))) {
      continue;
    }
    std::vector<std::string> types = split_list(p.get("Types"));
    if (types.empty()) {
      return make_error(ErrorKind::InvalidInput, where + ": missing Types");
    }
    if (std::find(types.begin(), types.end(), "deb") == types.end()) {
      continue;
    }
    std::vector<std::string> uris = split_list(p.get("URIs"));
    if (uris.empty()) {
      return make_error(ErrorKind::InvalidInput, where + ": missing URIs");
    }
    AptSource proto;
    proto.origin = where;
    proto.suites = to_strings(split_words(p.get("Suites")));
    if (proto.suites.empty()) {
      return make_error(ErrorKind::InvalidInput, where + ": missing Suites");
    }
    proto.components = to_strings(split_words(p.get("Components")));
    proto.archs = split_list(p.get("Architectures"));
    if (const std::string* signed_by = p.find("Signed-By"); signed_by != nullptr) {
      if (is_inline_key(*signed_by)) {
        proto.keyring = unfold_key(*signed_by);
      } else {
        std::vector<std::string> keys = split_list(*signed_by);
        if (!keys.empty()) {
          proto.keyring = keys.front();
        }
      }
    }
    if (const std::string* check = p.find("Check-Valid-Until"); check != nullptr) {
      proto.check_valid_until = !is_no(trim(*check));
    }
    for (const std::string& uri : uris) {
      AptSource source = proto;
      source.url = strip_slash(net::strip_credentials(uri));
      sources.push_back(std::move(source));
    }
  }
  return sources;
}

Result<std::vector<AptSource>> parse_sources_list(std::string_view text,
                                                  const std::string& origin) {
  std::vector<AptSource> sources;
  int line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    ++line_no;
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) {
      continue;
    }
    std::string where = origin + ":" + std::to_string(line_no);
    auto fail = [&](const std::string& why) {
      return make_error(ErrorKind::InvalidInput, where + ": " + why);
    };
    size_t type_end = line.find_first_of(" \t");
    std::string_view type = line.substr(0, type_end);
    if (type != "deb" && type != "deb-src") {
      return fail("unknown type '" + std::string(type) + "' (expected deb or deb-src)");
    }
    std::string_view rest =
        type_end == std::string_view::npos ? std::string_view() : trim(line.substr(type_end));
    AptSource source;
    source.origin = where;
    if (!rest.empty() && rest.front() == '[') {
      size_t close = rest.find(']');
      if (close == std::string_view::npos) {
        return fail("unterminated '[' option list");
      }
      for (std::string_view option : split_words(rest.substr(1, close - 1))) {
        size_t eq = option.find('=');
        if (eq == std::string_view::npos) {
          return fail("option '" + std::string(option) + "' lacks '='");
        }
        std::string_view key = option.substr(0, eq);
        std::string_view value = option.substr(eq + 1);
        if (!key.empty() && (key.back() == '+' || key.back() == '-')) {
          key.remove_suffix(1);  // arch+=, arch-=: treated as a plain list
        }
        if (key == "signed-by") {
          std::vector<std::string> keys = split_list(value);
          if (!keys.empty()) {
            source.keyring = keys.front();
          }
        } else if (key == "arch") {
          source.archs = split_list(value);
        } else if (key == "check-valid-until") {
          source.check_valid_until = !is_no(value);
        }
      }
      rest = trim(rest.substr(close + 1));
    }
    std::vector<std::string_view> words = split_words(rest);
    if (words.size() < 2) {
      return fail("expected 'URI SUITE [COMPONENT...]'");
    }
    if (type != "deb") {
      continue;
    }
    source.url = strip_slash(net::strip_credentials(words[0]));
    source.suites.emplace_back(words[1]);
    for (size_t i = 2; i < words.size(); ++i) {
      source.components.emplace_back(words[i]);
    }
    sources.push_back(std::move(source));
  }
  return sources;
}

bool apt_conf_disables_valid_until(std::string_view text) {
  // Accepts `Acquire::Check-Valid-Until "false";` and the scoped form
  // `Acquire { Check-Valid-Until "false"; };`, case-insensitively.
  const std::string lower = util::ascii_lower(text);
  size_t pos = 0;
  bool disabled = false;
  while ((pos = lower.find("check-valid-until", pos)) != std::string::npos) {
    pos += std::string_view("check-valid-until").size();
    size_t quote = lower.find('"', pos);
    if (quote == std::string::npos || lower.find_first_not_of(" \t", pos) != quote) {
      continue;
    }
    size_t end = lower.find('"', quote + 1);
    std::string value = lower.substr(quote + 1, end == std::string::npos ? 0 : end - quote - 1);
    disabled = value == "false" || value == "no" || value == "0" || value == "off";
  }
  return disabled;
}

Result<std::vector<AptSource>> read_host_sources(const std::filesystem::path& root,
                                                 std::string_view codename) {
  namespace fs = std::filesystem;
  std::vector<fs::path> lists;
  std::vector<fs::path> deb822;
  fs::path etc = root / "etc/apt";
  std::error_code ec;
  if (fs::is_regular_file(etc / "sources.list", ec)) {
    lists.push_back(etc / "sources.list");
  }
  std::vector<fs::path> entries;
  fs::directory_iterator it(etc / "sources.list.d", ec);
  if (!ec) {
    for (const auto& entry : it) {
      entries.push_back(entry.path());
    }
  }
  std::sort(entries.begin(), entries.end());

  std::vector<AptSource> all;
  auto add = [&](const fs::path& path, bool is_deb822) -> Status {
    DISTILL_TRY(auto text, util::read_file(path));
    auto parsed = is_deb822 ? parse_sources_deb822(text, path.string())
                            : parse_sources_list(text, path.string());
    if (!parsed.ok()) {
      return std::move(parsed).error();
    }
    for (auto& source : *parsed) {
      all.push_back(std::move(source));
    }
    return {};
  };
  for (const fs::path& path : lists) {
    DISTILL_CHECK(add(path, false));
  }
  for (const fs::path& path : entries) {
    if (path.extension() == ".list") {
      DISTILL_CHECK(add(path, false));
    } else if (path.extension() == ".sources") {
      DISTILL_CHECK(add(path, true));
    }
  }

  std::vector<AptSource> kept;
  std::string prefix = std::string(codename) + "-";
  for (AptSource& source : all) {
    std::vector<std::string> suites;
    for (const std::string& suite : source.suites) {
      if (suite == codename || suite.rfind(prefix, 0) == 0) {
        suites.push_back(suite);
      }
    }
    if (!suites.empty()) {
      source.suites = std::move(suites);
      kept.push_back(std::move(source));
    }
  }
  if (kept.empty() && !version_id(codename).empty()) {
    kept = derive_release_sources(all, codename);
  }
  // The host's own apt may be told to accept expired Release files (snapshot
  // mirrors): its sources come with that setting.
  std::vector<fs::path> confs;
  if (fs::is_regular_file(etc / "apt.conf", ec)) {
    confs.push_back(etc / "apt.conf");
  }
  std::vector<fs::path> conf_parts;
  fs::directory_iterator conf_it(etc / "apt.conf.d", ec);
  if (!ec) {
    for (const auto& entry : conf_it) {
      conf_parts.push_back(entry.path());
    }
  }
  std::sort(conf_parts.begin(), conf_parts.end());
  confs.insert(confs.end(), conf_parts.begin(), conf_parts.end());
  bool disabled = false;
  for (const fs::path& conf : confs) {
    auto text = util::read_file(conf);
    if (text.ok() && text->find("heck-Valid-Until") != std::string::npos) {
      disabled = apt_conf_disables_valid_until(*text);
    }
  }
  if (disabled) {
    for (AptSource& source : kept) {
      source.check_valid_until = false;
    }
  }
  return kept;
}

}  // namespace distill::debian
