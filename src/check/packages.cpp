// Package records, os-release and copyright licenses of an image: see packages.hpp.
#include "check/packages.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "debian/control.hpp"

namespace distill::check {

namespace {

constexpr const char* k_status_dir = "/var/lib/dpkg/status.d";
constexpr const char* k_status_file = "/var/lib/dpkg/status";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string unquote(std::string_view value) {
  value = debian::trim(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(value);
}

PackageRecord record_from(const debian::Paragraph& paragraph, const std::string& file) {
  PackageRecord record;
  record.name = std::string(debian::trim(paragraph.get("Package")));
  record.version = std::string(debian::trim(paragraph.get("Version")));
  record.arch = std::string(debian::trim(paragraph.get("Architecture")));
  record.maintainer = std::string(debian::trim(paragraph.get("Maintainer")));
  record.status_file = file;
  std::string source(debian::trim(paragraph.get("Source")));
  size_t paren = source.find('(');
  if (paren != std::string::npos) {
    size_t close = source.find(')', paren);
    record.source_version = std::string(debian::trim(std::string_view(source).substr(
        paren + 1, close == std::string::npos ? std::string::npos : close - paren - 1)));
    source = std::string(debian::trim(std::string_view(source).substr(0, paren)));
  }
  record.source = source;
  return record;
}

// Debian short name (lower case) -> SPDX identifier.
const std::map<std::string, std::string>& license_table() {
  static const std::map<std::string, std::string> k_table = {
      {"agpl-3", "AGPL-3.0-only"},
      {"agpl-3+", "AGPL-3.0-or-later"},
      {"apache-1.0", "Apache-1.0"},
      {"apache-1.1", "Apache-1.1"},
      {"apache-2.0", "Apache-2.0"},
      {"apache-2", "Apache-2.0"},
      {"artistic", "Artistic-1.0-Perl"},
      {"artistic-1.0", "Artistic-1.0"},
      {"artistic-2.0", "Artistic-2.0"},
      {"beerware", "Beerware"},
      {"bsd-2-clause", "BSD-2-Clause"},
      {"bsd-3-clause", "BSD-3-Clause"},
      {"bsd-4-clause", "BSD-4-Clause"},
      {"bsl-1.0", "BSL-1.0"},
      {"cc-by-3.0", "CC-BY-3.0"},
      {"cc-by-4.0", "CC-BY-4.0"},
      {"cc-by-sa-3.0", "CC-BY-SA-3.0"},
      {"cc-by-sa-4.0", "CC-BY-SA-4.0"},
      {"cc0-1.0", "CC0-1.0"},
      {"cc0", "CC0-1.0"},
      {"cddl-1.0", "CDDL-1.0"},
      {"cpl-1.0", "CPL-1.0"},
      {"curl", "curl"},
      {"epl-1.0", "EPL-1.0"},
      {"epl-2.0", "EPL-2.0"},
      {"expat", "MIT"},
      {"mit", "MIT"},
      {"ftl", "FTL"},
      {"gfdl-1.2", "GFDL-1.2-only"},
      {"gfdl-1.2+", "GFDL-1.2-or-later"},
      {"gfdl-1.3", "GFDL-1.3-only"},
      {"gfdl-1.3+", "GFDL-1.3-or-later"},
      {"gpl-1", "GPL-1.0-only"},
      {"gpl-1+", "GPL-1.0-or-later"},
      {"gpl-2", "GPL-2.0-only"},
      {"gpl-2+", "GPL-2.0-or-later"},
      {"gpl-3", "GPL-3.0-only"},
      {"gpl-3+", "GPL-3.0-or-later"},
      {"gpl", "GPL-1.0-or-later"},
      {"gpl+", "GPL-1.0-or-later"},
      {"ijg", "IJG"},
      {"isc", "ISC"},
      {"lgpl-2", "LGPL-2.0-only"},
      {"lgpl-2+", "LGPL-2.0-or-later"},
      {"lgpl-2.0", "LGPL-2.0-only"},
      {"lgpl-2.0+", "LGPL-2.0-or-later"},
      {"lgpl-2.1", "LGPL-2.1-only"},
      {"lgpl-2.1+", "LGPL-2.1-or-later"},
      {"lgpl-3", "LGPL-3.0-only"},
      {"lgpl-3+", "LGPL-3.0-or-later"},
      {"libpng", "Libpng"},
      {"libpng-2.0", "libpng-2.0"},
      {"lppl-1.3c", "LPPL-1.3c"},
      {"mpl-1.1", "MPL-1.1"},
      {"mpl-2.0", "MPL-2.0"},
      {"ofl-1.1", "OFL-1.1"},
      {"openssl", "OpenSSL"},
      {"psf-2", "PSF-2.0"},
      {"python-2.0", "Python-2.0"},
      {"sleepycat", "Sleepycat"},
      {"ssleay", "SSLeay-standalone"},
      {"unicode-dfs-2015", "Unicode-DFS-2015"},
      {"unicode-dfs-2016", "Unicode-DFS-2016"},
      {"unlicense", "Unlicense"},
      {"wtfpl", "WTFPL"},
      {"wtfpl-2", "WTFPL"},
      {"x11", "X11"},
      {"zlib", "Zlib"},
      {"zope-2.1", "ZPL-2.1"},
  };
  return k_table;
}

const std::map<std::string, std::string>& exception_table() {
  static const std::map<std::string, std::string> k_table = {
      {"gcc-exception-3.1", "GCC-exception-3.1"},
      {"gcc-exception-2.0", "GCC-exception-2.0"},
      {"autoconf-exception-3.0", "Autoconf-exception-3.0"},
      {"autoconf-exception-2.0", "Autoconf-exception-2.0"},
      {"autoconf", "Autoconf-exception-2.0"},
      {"classpath", "Classpath-exception-2.0"},
      {"classpath-exception-2.0", "Classpath-exception-2.0"},
      {"font", "Font-exception-2.0"},
      {"openssl", "OpenSSL-exception"},
      {"bison-exception-2.2", "Bison-exception-2.2"},
      {"libtool", "Libtool-exception"},
  };
  return k_table;
}

// Splits on a word (" or ", " and ") outside of nothing fancy: Debian expressions
// are flat; "," is a lower-precedence "and".
std::vector<std::string> split_word(const std::string& text, const std::string& word) {
  std::vector<std::string> out;
  std::string lowered = lower(text);
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

std::string single_license(std::string_view name) {
  std::string text(debian::trim(name));
  std::string lowered = lower(text);
  // "GPL-3+ with GCC-exception-3.1 exception"
  size_t with = lowered.find(" with ");
  if (with != std::string::npos) {
    std::string base = single_license(text.substr(0, with));
    std::string exception = lowered.substr(with + 6);
    const std::string suffix = " exception";
    if (exception.size() > suffix.size() &&
        exception.compare(exception.size() - suffix.size(), suffix.size(), suffix) == 0) {
      exception.resize(exception.size() - suffix.size());
    }
    exception = std::string(debian::trim(exception));
    auto it = exception_table().find(exception);
    if (base.empty() || it == exception_table().end()) {
      return {};
    }
    return base + " WITH " + it->second;
  }
  return spdx_license_id(text);
}

bool is_machine_readable(const std::vector<debian::Paragraph>& paragraphs) {
  if (paragraphs.empty()) {
    return false;
  }
  std::string format = lower(paragraphs.front().get("Format"));
  return format.find("copyright-format/1.0") != std::string::npos ||
         format.find("dep5") != std::string::npos || format.find("dep-5") != std::string::npos;
}

// The License fields that apply to files: the header's and those of Files paragraphs.
std::vector<std::string> applying_licenses(const std::vector<debian::Paragraph>& paragraphs) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    const auto& paragraph = paragraphs[i];
    if (i != 0 && paragraph.find("Files") == nullptr) {
      continue;
    }
    const std::string* license = paragraph.find("License");
    if (license == nullptr) {
      continue;
    }
    std::string first = license->substr(0, license->find('\n'));
    first = std::string(debian::trim(first));
    if (!first.empty() && seen.insert(first).second) {
      out.push_back(first);
    }
  }
  return out;
}

}  // namespace

Result<std::vector<PackageRecord>> installed_packages(const ImageView& view) {
  std::vector<std::string> files;
  for (const auto& name : view.list_dir(k_status_dir)) {
    const std::string path = std::string(k_status_dir) + "/" + name;
    const FileInfo* info = view.stat(path);
    if (info == nullptr || !info->is_regular()) {
      continue;
    }
    if (name.size() >= 8 && name.compare(name.size() - 8, 8, ".md5sums") == 0) {
      continue;
    }
    files.push_back(path);
  }
  if (const FileInfo* info = view.stat(k_status_file); info != nullptr && info->is_regular()) {
    files.push_back(k_status_file);
  }
  DISTILL_TRY(auto contents, view.read_files(files));
  std::vector<PackageRecord> out;
  for (const auto& [path, text] : contents) {
    DISTILL_TRY(auto paragraphs, debian::parse_control(text, path));
    for (const auto& paragraph : paragraphs) {
      if (paragraph.find("Package") == nullptr) {
        continue;
      }
      // A classic status file lists removed packages too.
      std::string status = paragraph.get("Status");
      if (!status.empty() && status.find(" installed") == std::string::npos) {
        continue;
      }
      out.push_back(record_from(paragraph, path));
    }
  }
  std::sort(out.begin(), out.end(), [](const PackageRecord& a, const PackageRecord& b) {
    return a.name != b.name ? a.name < b.name : a.arch < b.arch;
  });
  return out;
}

OsRelease parse_os_release(std::string_view text) {
  OsRelease out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = debian::trim(text.substr(start, end - start));
    start = end + 1;
    size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string_view::npos) {
      continue;
    }
    std::string_view key = line.substr(0, eq);
    std::string value = unquote(line.substr(eq + 1));
    if (key == "ID") {
      out.id = value;
    } else if (key == "VERSION_ID") {
      out.version_id = value;
    } else if (key == "VERSION_CODENAME") {
      out.version_codename = value;
    } else if (key == "PRETTY_NAME") {
      out.pretty_name = value;
    }
  }
  return out;
}

OsRelease read_os_release(const ImageView& view) {
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = view.read_file(path);
    if (text.ok()) {
      return parse_os_release(*text);
    }
  }
  return {};
}

std::string spdx_license_id(std::string_view debian_name) {
  std::string key = lower(debian::trim(debian_name));
  auto it = license_table().find(key);
  return it == license_table().end() ? std::string() : it->second;
}

std::string spdx_expression(std::string_view debian_license) {
  std::string text(debian::trim(debian_license));
  if (text.empty()) {
    return {};
  }
  // "," binds loosest (and), then "and", then "or" (copyright-format 1.0, "License
  // specification").
  std::vector<std::string> and_parts;
  for (const auto& comma_part : split_word(text, ",")) {
    std::string clause(debian::trim(comma_part));
    if (lower(clause).rfind("and ", 0) == 0) {
      clause = clause.substr(4);  // "A or B, and C"
    }
    for (const auto& part : split_word(clause, " and ")) {
      and_parts.push_back(part);
    }
  }
  std::vector<std::string> mapped_and;
  for (const auto& and_part : and_parts) {
    std::vector<std::string> or_parts = split_word(and_part, " or ");
    std::vector<std::string> mapped_or;
    for (const auto& part : or_parts) {
      std::string id = single_license(part);
      if (id.empty()) {
        return {};
      }
      mapped_or.push_back(id);
    }
    std::string joined;
    for (size_t i = 0; i < mapped_or.size(); ++i) {
      joined += (i == 0 ? "" : " OR ") + mapped_or[i];
    }
    if (mapped_or.size() > 1 && and_parts.size() > 1) {
      joined = "(" + joined + ")";
    }
    mapped_and.push_back(joined);
  }
  std::string out;
  for (size_t i = 0; i < mapped_and.size(); ++i) {
    out += (i == 0 ? "" : " AND ") + mapped_and[i];
  }
  return out;
}

std::vector<std::string> copyright_license_names(std::string_view copyright_text) {
  auto paragraphs = debian::parse_control(copyright_text, "copyright");
  if (!paragraphs.ok() || !is_machine_readable(*paragraphs)) {
    return {};
  }
  return applying_licenses(*paragraphs);
}

std::string copyright_expression(std::string_view copyright_text) {
  std::vector<std::string> names = copyright_license_names(copyright_text);
  if (names.empty()) {
    return {};
  }
  std::vector<std::string> parts;
  std::set<std::string> seen;
  for (const auto& name : names) {
    std::string expression = spdx_expression(name);
    if (expression.empty()) {
      return {};
    }
    if (seen.insert(expression).second) {
      parts.push_back(expression);
    }
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    bool compound =
        parts.size() > 1 && parts[i].find(" OR ") != std::string::npos && parts[i].front() != '(';
    out += (i == 0 ? "" : " AND ") + (compound ? "(" + parts[i] + ")" : parts[i]);
  }
  return out;
}

}  // namespace distill::check
