// Debian copyright files as SPDX license expressions: see debian_licenses.hpp.
#include "check/debian_licenses.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "util/text.hpp"

namespace distill::check {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return text;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Debian short names (lower case) whose SPDX identifier is not derived by
// family_id() below. Names from copyright-format 1.0 "License specification" and
// those seen in bookworm's copyright files.
const std::map<std::string, std::string>& license_table() {
  static const std::map<std::string, std::string> k_table = {
      {"0bsd", "0BSD"},
      {"apache-1.0", "Apache-1.0"},
      {"apache-1.1", "Apache-1.1"},
      {"apache-2", "Apache-2.0"},
      {"apache-2.0", "Apache-2.0"},
      {"artistic", "Artistic-1.0-Perl"},
      {"artistic-1", "Artistic-1.0"},
      {"artistic-1.0", "Artistic-1.0"},
      {"artistic-2", "Artistic-2.0"},
      {"artistic-2.0", "Artistic-2.0"},
      {"beerware", "Beerware"},
      {"boost-1.0", "BSL-1.0"},
      {"bsd-1-clause", "BSD-1-Clause"},
      {"bsd-2-clause", "BSD-2-Clause"},
      {"bsd-2-clause-freebsd", "BSD-2-Clause-FreeBSD"},
      {"bsd-2-clause-netbsd", "BSD-2-Clause-NetBSD"},
      {"bsd-3-clause", "BSD-3-Clause"},
      {"bsd-3-clause-clear", "BSD-3-Clause-Clear"},
      {"bsd-4-clause", "BSD-4-Clause"},
      {"bsd-4-clause-uc", "BSD-4-Clause-UC"},
      {"bsl-1.0", "BSL-1.0"},
      {"bzip2", "bzip2-1.0.6"},
      {"bzip2-1.0.6", "bzip2-1.0.6"},
      {"cc-by-3.0", "CC-BY-3.0"},
      {"cc-by-4.0", "CC-BY-4.0"},
      {"cc-by-sa-3.0", "CC-BY-SA-3.0"},
      {"cc-by-sa-4.0", "CC-BY-SA-4.0"},
      {"cc0", "CC0-1.0"},
      {"cc0-1.0", "CC0-1.0"},
      {"cddl-1.0", "CDDL-1.0"},
      {"cecill-2.1", "CECILL-2.1"},
      {"cecill-b", "CECILL-B"},
      {"cecill-c", "CECILL-C"},
      {"cpl-1.0", "CPL-1.0"},
      {"curl", "curl"},
      {"efl-2", "EFL-2.0"},
      {"efl-2.0", "EFL-2.0"},
      {"epl-1.0", "EPL-1.0"},
      {"epl-2.0", "EPL-2.0"},
      {"expat", "MIT"},
      {"ftl", "FTL"},
      {"gfdl-niv-1.2", "GFDL-1.2-no-invariants-only"},
      {"gfdl-niv-1.2+", "GFDL-1.2-no-invariants-or-later"},
      {"gfdl-niv-1.3", "GFDL-1.3-no-invariants-only"},
      {"gfdl-niv-1.3+", "GFDL-1.3-no-invariants-or-later"},
      {"hpnd", "HPND"},
      {"ijg", "IJG"},
      {"isc", "ISC"},
      {"libpng", "Libpng"},
      {"libpng-2.0", "libpng-2.0"},
      {"lppl-1.3c", "LPPL-1.3c"},
      {"mit", "MIT"},
      {"mit-0", "MIT-0"},
      {"mit-cmu", "MIT-CMU"},
      {"mit-x11", "X11"},
      {"mit/x11", "X11"},
      {"mpl-1.0", "MPL-1.0"},
      {"mpl-1.1", "MPL-1.1"},
      {"mpl-2.0", "MPL-2.0"},
      {"ms-pl", "MS-PL"},
      {"ms-rl", "MS-RL"},
      {"ncsa", "NCSA"},
      {"ofl-1.1", "OFL-1.1"},
      {"openldap-2.8", "OLDAP-2.8"},
      {"openssl", "OpenSSL"},
      {"postgresql", "PostgreSQL"},
      {"psf-2", "PSF-2.0"},
      {"psf-2.0", "PSF-2.0"},
      {"python", "Python-2.0"},
      {"python-2.0", "Python-2.0"},
      {"qpl-1.0", "QPL-1.0"},
      {"ruby", "Ruby"},
      {"sleepycat", "Sleepycat"},
      {"ssleay", "SSLeay-standalone"},
      {"tcl", "TCL"},
      {"unicode-dfs-2015", "Unicode-DFS-2015"},
      {"unicode-dfs-2016", "Unicode-DFS-2016"},
      {"unlicense", "Unlicense"},
      {"w3c", "W3C"},
      {"wtfpl", "WTFPL"},
      {"wtfpl-2", "WTFPL"},
      {"x11", "X11"},
      {"zlib", "Zlib"},
      {"zope-2.1", "ZPL-2.1"},
      {"zpl-2.1", "ZPL-2.1"},
  };
  return k_table;
}

// Exception names after "with" (lower case, without the trailing "exception").
const std::map<std::string, std::string>& exception_table() {
  static const std::map<std::string, std::string> k_table = {
      {"autoconf", "Autoconf-exception-2.0"},
      {"autoconf-2.0", "Autoconf-exception-2.0"},
      {"autoconf-3.0", "Autoconf-exception-3.0"},
      {"autoconf-exception-2.0", "Autoconf-exception-2.0"},
      {"autoconf-exception-3.0", "Autoconf-exception-3.0"},
      {"bison", "Bison-exception-2.2"},
      {"bison-exception-2.2", "Bison-exception-2.2"},
      {"classpath", "Classpath-exception-2.0"},
      {"classpath-exception-2.0", "Classpath-exception-2.0"},
      {"font", "Font-exception-2.0"},
      {"gcc-exception-2.0", "GCC-exception-2.0"},
      {"gcc-exception-3.1", "GCC-exception-3.1"},
      {"gcc-3.1", "GCC-exception-3.1"},
      {"libtool", "Libtool-exception"},
      {"openssl", "OpenSSL-exception"},
      {"openssl-exception", "OpenSSL-exception"},
  };
  return k_table;
}

// The GNU families: "GPL-2+", "GPL-2.0+", "LGPL-2.1", "AGPL-3.0-or-later",
// "GFDL-1.3+", "GPLv2+" -> "GPL-2.0-or-later" etc.; "" if `name` is not one.
std::string family_id(const std::string& name) {
  static const std::pair<const char*, const char*> k_families[] = {
      {"agpl", "AGPL"}, {"lgpl", "LGPL"}, {"gfdl", "GFDL"}, {"gpl", "GPL"}};
  for (const auto& [prefix, spdx] : k_families) {
    std::string_view rest(name);
    if (rest.substr(0, std::string_view(prefix).size()) != prefix) {
      continue;
    }
    rest.remove_prefix(std::string_view(prefix).size());
    if (!rest.empty() && (rest.front() == '-' || rest.front() == 'v')) {
      rest.remove_prefix(1);
    }
    bool later = false;
    if (ends_with(rest, "+")) {
      later = true;
      rest.remove_suffix(1);
    } else if (ends_with(rest, "-or-later")) {
      later = true;
      rest.remove_suffix(9);
    } else if (ends_with(rest, "-only")) {
      rest.remove_suffix(5);
    }
    std::string version;
    if (rest.empty()) {
      // "GPL" with no version means any version (GPL section 9).
      version = std::string(spdx) == "LGPL" ? "2.0" : "1.0";
      later = true;
    } else if (rest.size() == 1 && std::isdigit(static_cast<unsigned char>(rest[0])) != 0) {
      version = std::string(rest) + ".0";
    } else if (rest.size() == 3 && std::isdigit(static_cast<unsigned char>(rest[0])) != 0 &&
               rest[1] == '.' && std::isdigit(static_cast<unsigned char>(rest[2])) != 0) {
      version = std::string(rest);
    } else {
      return {};
    }
    static const std::set<std::string> k_known = {"AGPL-1.0", "AGPL-3.0", "GFDL-1.1", "GFDL-1.2",
                                                  "GFDL-1.3", "GPL-1.0",  "GPL-2.0",  "GPL-3.0",
                                                  "LGPL-2.0", "LGPL-2.1", "LGPL-3.0"};
    std::string id = std::string(spdx) + "-" + version;
    if (k_known.count(id) == 0) {
      return {};
    }
    return id + (later ? "-or-later" : "-only");
  }
  return {};
}

// Splits `text` at every occurrence of `word` (lower-case comparison).
std::vector<std::string> split_word(const std::string& text, const std::string& word) {
  std::vector<std::string> out;
  std::string lowered = util::ascii_lower(text);
  size_t start = 0;
  while (true) {
    size_t at = lowered.find(word, start);
    if (at == std::string::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, at - start));
    start = at + word.size();
  }
}

// One name, possibly "X with Y exception".
std::string single_license(std::string_view name, std::vector<std::string>* unknown) {
  std::string text(trim(name));
  std::string lowered = util::ascii_lower(text);
  size_t with = lowered.find(" with ");
  if (with != std::string::npos) {
    std::string base = spdx_license_id(text.substr(0, with));
    std::string exception(trim(lowered.substr(with + 6)));
    if (ends_with(exception, " exception")) {
      exception.resize(exception.size() - 10);
    }
    exception = std::string(trim(exception));
    auto it = exception_table().find(exception);
    if (!base.empty() && it != exception_table().end()) {
      return base + " WITH " + it->second;
    }
  } else if (std::string id = spdx_license_id(text); !id.empty()) {
    return id;
  }
  if (unknown != nullptr) {
    unknown->push_back(text);
  }
  return license_ref(text);
}

// A field of a copyright file: the first line's text and the continuation lines.
struct CopyrightField {
  std::string name;
  std::string first;
  std::vector<std::string> body;
};
using CopyrightParagraph = std::vector<CopyrightField>;

// deb822 read leniently: copyright files in the wild have empty lines inside license
// texts and stray lines without a field name. A blank line ends a paragraph; a line
// starting with a space or tab continues the previous field; "Name: value" at
// column 0 starts a field; any other line continues the previous field.
std::vector<CopyrightParagraph> read_paragraphs(std::string_view text) {
  std::vector<CopyrightParagraph> out;
  CopyrightParagraph current;
  auto flush = [&] {
    if (!current.empty()) {
      out.push_back(std::move(current));
      current.clear();
    }
  };
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (trim(line).empty()) {
      flush();
      if (end == text.size()) {
        break;
      }
      continue;
    }
    if (line[0] == '#') {
      continue;
    }
    size_t colon = line.find(':');
    bool field_start = line[0] != ' ' && line[0] != '\t' && colon != std::string_view::npos &&
                       colon > 0 && line.substr(0, colon).find(' ') == std::string_view::npos;
    if (field_start) {
      current.push_back({util::ascii_lower(line.substr(0, colon)),
                         std::string(trim(line.substr(colon + 1))),
                         {}});
    } else if (!current.empty()) {
      current.back().body.emplace_back(line);
    }
    if (end == text.size()) {
      break;
    }
  }
  flush();
  return out;
}

const CopyrightField* find_field(const CopyrightParagraph& paragraph, std::string_view name) {
  for (const auto& field : paragraph) {
    if (field.name == name) {
      return &field;
    }
  }
  return nullptr;
}

bool is_machine_readable(const std::vector<CopyrightParagraph>& paragraphs) {
  if (paragraphs.empty()) {
    return false;
  }
  const CopyrightField* format = find_field(paragraphs.front(), "format");
  if (format == nullptr) {
    format = find_field(paragraphs.front(), "format-specification");
  }
  if (format == nullptr) {
    return false;
  }
  std::string value = util::ascii_lower(format->first);
  return value.find("copyright-format/1.0") != std::string::npos ||
         value.find("dep5") != std::string::npos || value.find("dep-5") != std::string::npos;
}

// A field body as text: one leading space dropped, " ." lines empty.
std::string body_text(const std::vector<std::string>& body) {
  std::string out;
  for (const auto& raw : body) {
    std::string_view line(raw);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      line.remove_prefix(1);
    }
    if (trim(line) == ".") {
      line = {};
    }
    out += std::string(line);
    out += '\n';
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

// The text a machine-readable file gives for license `name`: a stand-alone License
// paragraph's, else that of a Files paragraph with this license.
std::string license_text(const std::vector<CopyrightParagraph>& paragraphs,
                         const std::string& name) {
  std::string wanted = util::ascii_lower(name);
  std::string from_files;
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    const CopyrightField* license = find_field(paragraphs[i], "license");
    if (license == nullptr || util::ascii_lower(license->first) != wanted) {
      continue;
    }
    std::string text = body_text(license->body);
    if (text.empty()) {
      continue;
    }
    if (i != 0 && find_field(paragraphs[i], "files") == nullptr) {
      return text;
    }
    if (from_files.empty()) {
      from_files = text;
    }
  }
  return from_files;
}

}  // namespace

std::string spdx_license_id(std::string_view debian_name) {
  std::string key = util::ascii_lower(trim(debian_name));
  if (key.empty()) {
    return {};
  }
  if (auto it = license_table().find(key); it != license_table().end()) {
    return it->second;
  }
  if (std::string id = family_id(key); !id.empty()) {
    return id;
  }
  // "Apache-2.0+", "MPL-1.1+": SPDX's own "or later" operator.
  if (key.back() == '+') {
    if (auto it = license_table().find(key.substr(0, key.size() - 1));
        it != license_table().end()) {
      return it->second + "+";
    }
  }
  return {};
}

std::string license_ref(std::string_view name) {
  std::string id;
  for (char c : trim(name)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-';
    std::string part = c == '+' ? "-plus" : std::string(1, ok ? c : '-');
    for (char p : part) {
      if (p != '-' || (!id.empty() && id.back() != '-')) {  // no "--", no leading '-'
        id += p;
      }
    }
  }
  while (!id.empty() && id.back() == '-') {
    id.pop_back();
  }
  return "LicenseRef-" + (id.empty() ? std::string("unnamed") : id);
}

std::string spdx_expression(std::string_view debian_license, std::vector<std::string>* unknown) {
  std::string text(trim(debian_license));
  if (text.empty()) {
    return {};
  }
  // Comma-separated segments combine left to right with the operator that starts
  // them ("A or B, and C"); inside a segment "and" binds tighter than "or".
  std::string out;
  size_t segments = 0;
  for (const auto& raw_segment : split_word(text, ",")) {
    std::string segment(trim(raw_segment));
    std::string op = "AND";
    if (util::ascii_lower(segment).rfind("and ", 0) == 0) {
      segment = segment.substr(4);
    } else if (util::ascii_lower(segment).rfind("or ", 0) == 0) {
      op = "OR";
      segment = segment.substr(3);
    }
    if (trim(segment).empty()) {
      continue;
    }
    std::vector<std::string> alternatives;
    for (const auto& alternative : split_word(segment, " or ")) {
      std::vector<std::string> both;
      for (const auto& part : split_word(alternative, " and ")) {
        if (!trim(part).empty()) {
          both.push_back(single_license(part, unknown));
        }
      }
      if (both.empty()) {
        continue;
      }
      std::string joined;
      for (size_t i = 0; i < both.size(); ++i) {
        joined += (i == 0 ? "" : " AND ") + both[i];
      }
      alternatives.push_back(joined);
    }
    if (alternatives.empty()) {
      continue;
    }
    std::string part;
    for (size_t i = 0; i < alternatives.size(); ++i) {
      // AND binds tighter than OR in SPDX too; the parentheses are for readers.
      bool both = alternatives.size() > 1 && alternatives[i].find(" AND ") != std::string::npos;
      part += (i == 0 ? "" : " OR ") + (both ? "(" + alternatives[i] + ")" : alternatives[i]);
    }
    if (segments == 0) {
      out = part;
    } else {
      // SPDX's AND binds tighter than OR: an AND of alternatives needs parentheses.
      auto wrap = [&](const std::string& e) {
        return op == "AND" && e.find(" OR ") != std::string::npos ? "(" + e + ")" : e;
      };
      out = wrap(out) + " " + op + " " + wrap(part);
    }
    ++segments;
  }
  return out;
}

std::vector<std::string> copyright_license_names(std::string_view copyright_text) {
  auto paragraphs = read_paragraphs(copyright_text);
  if (!is_machine_readable(paragraphs)) {
    return {};
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    if (i != 0 && find_field(paragraphs[i], "files") == nullptr) {
      continue;  // a stand-alone license text
    }
    const CopyrightField* license = find_field(paragraphs[i], "license");
    if (license != nullptr && !license->first.empty() && seen.insert(license->first).second) {
      out.push_back(license->first);
    }
  }
  return out;
}

CopyrightLicenses copyright_licenses(std::string_view copyright_text, const std::string& path,
                                     const std::string& package) {
  CopyrightLicenses out;
  auto paragraphs = read_paragraphs(copyright_text);
  out.machine_readable = is_machine_readable(paragraphs);
  std::vector<std::string> names =
      out.machine_readable ? copyright_license_names(copyright_text) : std::vector<std::string>{};
  if (names.empty()) {
    // Not machine-readable (or declaring no license): the file is the license.
    ExtractedLicense extracted;
    extracted.id = license_ref(package + "-copyright");
    extracted.name = path;
    extracted.text =
        "The license terms of " + package + " are in " + path + " in the image" +
        (out.machine_readable ? " (no License field)." : " (not in the machine-readable format).");
    out.expression = extracted.id;
    out.extracted.push_back(std::move(extracted));
    return out;
  }
  std::vector<std::string> parts;
  std::set<std::string> seen_parts;
  std::set<std::string> seen_refs;
  for (const auto& name : names) {
    std::vector<std::string> unknown;
    std::string expression = spdx_expression(name, &unknown);
    if (!expression.empty() && seen_parts.insert(expression).second) {
      parts.push_back(expression);
    }
    for (const auto& unknown_name : unknown) {
      std::string id = license_ref(unknown_name);
      if (!seen_refs.insert(id).second) {
        continue;
      }
      std::string text = license_text(paragraphs, unknown_name);
      if (text.empty()) {
        text = "License: " + unknown_name + " (" + path + " gives no text for it)";
      }
      out.extracted.push_back({id, unknown_name, text});
    }
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    bool compound = parts.size() > 1 && parts[i].find(" OR ") != std::string::npos;
    out.expression += (i == 0 ? "" : " AND ") + (compound ? "(" + parts[i] + ")" : parts[i]);
  }
  return out;
}

bool is_copyright_file(std::string_view tar_path) {
  constexpr std::string_view k_doc = "usr/share/doc/";
  constexpr std::string_view k_copyright = "/copyright";
  if (!tar_path.starts_with(k_doc) || !tar_path.ends_with(k_copyright)) {
    return false;
  }
  size_t slash = tar_path.find('/', k_doc.size());
  return slash > k_doc.size() && slash == tar_path.size() - k_copyright.size();
}

}  // namespace distill::check
