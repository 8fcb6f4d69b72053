// Debian releases and os-release: see releases.hpp.
#include "debian/releases.hpp"

#include <algorithm>

#include "debian/control.hpp"
#include "util/file_io.hpp"

namespace distill::debian {
namespace {

struct KnownRelease {
  std::string_view codename;
  std::string_view version_id;
};
// Every codename whose number an os-release may carry; the buildable ones are
// those with flavors (images/<codename>/).
constexpr KnownRelease k_known[] = {
    {"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"}, {"forky", "14"},
};

std::string unquote(std::string_view value) {
  value = trim(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(value);
}

}  // namespace

const std::vector<std::string>& buildable_releases() {
  static const std::vector<std::string> releases = {"bookworm", "trixie"};
  return releases;
}

bool is_buildable_release(std::string_view codename) {
  const auto& all = buildable_releases();
  return std::find(all.begin(), all.end(), codename) != all.end();
}

std::string buildable_releases_text() {
  std::string out;
  for (const auto& release : buildable_releases()) {
    out += (out.empty() ? "" : ", ") + release;
  }
  return out;
}

std::string newest_stable_release() { return buildable_releases().back(); }

std::string version_id(std::string_view codename) {
  for (const auto& known : k_known) {
    if (known.codename == codename) {
      return std::string(known.version_id);
    }
  }
  return "";
}

namespace {

// 12 for bookworm, 13 for trixie, ...; 0 for a codename distill does not know.
int release_number(std::string_view codename) {
  const std::string id = version_id(codename);
  return id.empty() ? 0 : std::stoi(id);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> merged_usr_links(std::string_view codename,
                                                                  std::string_view arch) {
  if (release_number(codename) < 13) {
    return {};
  }
  std::vector<std::pair<std::string, std::string>> links = {
      {"bin", "usr/bin"}, {"lib", "usr/lib"}, {"sbin", "usr/sbin"}};
  // Where the ELF ABI puts the loader in /lib64: amd64 (measured) and
  // ppc64el (/lib64/ld64.so.2; its .deb was not at hand to measure).
  if (arch == "amd64" || arch == "ppc64el") {
    links.emplace_back("lib64", "usr/lib64");
  }
  return links;
}

std::vector<ShippedDirectory> base_files_directories(std::string_view codename) {
  const int number = release_number(codename);
  if (number == 0) {
    return {};
  }
  std::vector<ShippedDirectory> dirs = {
      {"root", 0700}, {"tmp", 01777}, {"var/lock", 01777}, {"var/tmp", 01777}};
  if (number <= 12) {
    dirs.push_back({"var/local", 02775, 0, 50});
  }
  return dirs;
}

OsRelease parse_os_release(std::string_view text) {
  OsRelease out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = trim(text.substr(start, end - start));
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

std::optional<std::string> host_release(const std::filesystem::path& root) {
  for (const char* path : {"etc/os-release", "usr/lib/os-release"}) {
    auto text = util::read_file(root / path);
    if (!text.ok()) {
      continue;
    }
    OsRelease os = parse_os_release(*text);
    if (os.id == "debian" && is_buildable_release(os.version_codename)) {
      return os.version_codename;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::string default_release(const std::filesystem::path& root) {
  return host_release(root).value_or(newest_stable_release());
}

}  // namespace distill::debian
