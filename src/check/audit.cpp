// The audit checks: see audit.hpp for what each one means.
#include "check/audit.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "archive/entry_containment.hpp"
#include "elf/elf_reader.hpp"
#include "elf/library_closure.hpp"
#include "util/text.hpp"

namespace distill::check {

namespace {

const std::set<std::string>& shell_paths() {
  static const std::set<std::string> k_paths = {"/bin/sh",       "/bin/bash",   "/bin/dash",
                                                "/bin/ash",      "/usr/bin/sh", "/usr/bin/bash",
                                                "/usr/bin/dash", "/usr/bin/ash"};
  return k_paths;
}

const std::set<std::string>& package_managers() {
  static const std::set<std::string> k_names = {"dpkg", "dpkg-deb", "dpkg-query",
                                                "apt",  "apt-get",  "apt-cache"};
  return k_names;
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::string dir_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string octal(uint32_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%04o", mode & 07777);
  return buffer;
}

bool is_numeric(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// name -> id of a passwd/group file ("name:x:id:...").
std::map<std::string, std::string> parse_id_file(const std::string& text) {
  std::map<std::string, std::string> out;
  for (std::string line : util::split_lines(text)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    size_t third = second == std::string::npos ? second : line.find(':', second + 1);
    if (second == std::string::npos) {
      continue;
    }
    out[line.substr(0, first)] = line.substr(
        second + 1, third == std::string::npos ? std::string::npos : third - second - 1);
  }
  return out;
}

bool has_entry(const std::map<std::string, std::string>& entries, const std::string& who) {
  if (is_numeric(who)) {
    return std::any_of(entries.begin(), entries.end(),
                       [&](const auto& entry) { return entry.second == who; });
  }
  return entries.count(who) != 0;
}

void check_user(const ImageView& view, const oci::ImageConfig& config,
                std::vector<Finding>& findings) {
  std::string user = config.user.empty() ? "0" : config.user;
  std::string group;
  size_t colon = user.find(':');
  if (colon != std::string::npos) {
    group = user.substr(colon + 1);
    user = user.substr(0, colon);
  }
  if (user.empty()) {
    user = "0";
  }
  auto passwd = view.read_file("/etc/passwd");
  if (!passwd.ok()) {
    findings.push_back({"user", "/etc/passwd",
                        "config user \"" + config.user + "\" cannot be checked: no /etc/passwd"});
    return;
  }
  if (!has_entry(parse_id_file(*passwd), user)) {
    findings.push_back({"user", "/etc/passwd",
                        "config user \"" + config.user + "\": no " +
                            (is_numeric(user) ? "uid " : "user ") + user + " in /etc/passwd"});
  }
  if (!group.empty()) {
    auto groups = view.read_file("/etc/group");
    if (!groups.ok() || !has_entry(parse_id_file(*groups), group)) {
      findings.push_back({"user", "/etc/group",
                          "config user \"" + config.user + "\": no " +
                              (is_numeric(group) ? "gid " : "group ") + group + " in /etc/group"});
    }
  }
}

// Lexical walk of a symlink target from the link's directory: true if ".." climbs
// above the root.
bool climbs_above_root(const std::string& link_path, const std::string& target) {
  return !archive::resolve_link_target(link_path, target).has_value();
}

std::string expand_origin(std::string dir, const std::string& origin) {
  for (const char* token : {"${ORIGIN}", "$ORIGIN"}) {
    size_t at = 0;
    const std::string needle = token;
    while ((at = dir.find(needle, at)) != std::string::npos) {
      dir.replace(at, needle.size(), origin);
      at += origin.size();
    }
  }
  return dir;
}

// The ELF executables and shared objects of every layer, by their place in
// it, parsed as the view is folded.
class ElfScan {
 public:
  ImageView::ScanFn fn() {
    return [this](size_t layer, size_t position, const archive::TarEntry& entry,
                  archive::ContentReader& reader) -> Status {
      return scan({layer, position}, entry, reader);
    };
  }

  // Those the view holds, by absolute path.
  [[nodiscard]] std::map<std::string, elf::ElfInfo> held_by(const ImageView& view) {
    std::map<std::string, elf::ElfInfo> out;
    for (const auto& [path, info] : view.files()) {
      if (info.type == archive::EntryType::File) {
        if (auto it = m_found.find({info.layer, info.entry}); it != m_found.end()) {
          out.emplace(path, std::move(it->second));
        }
      }
    }
    return out;
  }

 private:
  using Key = std::pair<size_t, size_t>;  // (layer, position in the layer)

  Status scan(Key key, const archive::TarEntry& entry, archive::ContentReader& reader) {
    if (entry.size < 52) {  // smaller than an ELF header
      return {};
    }
    char magic[4];
    size_t got = 0;
    while (got < sizeof(magic)) {
      DISTILL_TRY(size_t n, reader.read(magic + got, sizeof(magic) - got));
      if (n == 0) {
        break;
      }
      got += n;
    }
    if (!elf::looks_like_elf(std::string_view(magic, got))) {
      return {};
    }
    // A buffer kept for the next ELF file: reading a 90 MB program into a
    // string that grew as it came, then copied behind its magic, was half of
    // auditing nodejs (copies, and page faults on new memory).
    std::string data = take_buffer();
    data.assign(magic, got);
    Status read = reader.read_all_into(data, entry.size > got ? entry.size - got : 0);
    std::optional<elf::ElfInfo> object;
    if (read.ok()) {
      auto info = elf::parse_elf(data, "/" + entry.path);
      if (info.ok() && (info->type == elf::k_et_exec || info->type == elf::k_et_dyn)) {
        object = std::move(*info);
      }
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    m_buffers.push_back(std::move(data));
    if (object) {
      m_found.emplace(key, std::move(*object));
    }
    return read;
  }

  std::string take_buffer() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_buffers.empty()) {
      return {};
    }
    std::string buffer = std::move(m_buffers.back());
    m_buffers.pop_back();
    return buffer;
  }

  std::mutex m_mutex;
  std::map<Key, elf::ElfInfo> m_found;
  std::vector<std::string> m_buffers;  // one per layer read at once
};

Status check_elf(const ImageView& view, const std::map<std::string, elf::ElfInfo>& elves,
                 std::vector<Finding>& findings, std::vector<Finding>& warnings) {
  // Sonames present anywhere (for dlopen-by-path libraries), per machine -> path.
  std::map<std::pair<uint16_t, std::string>, std::string> anywhere;
  for (const auto& [path, info] : elves) {
    anywhere.emplace(std::make_pair(info.machine, base_name(path)), path);
    if (!info.soname.empty()) {
      anywhere.emplace(std::make_pair(info.machine, info.soname), path);
    }
  }
  for (const auto& [path, info] : view.files()) {
    if (info.is_symlink()) {
      auto resolved = view.resolve(path);
      if (resolved.ok()) {
        auto it = elves.find(*resolved);
        if (it != elves.end()) {
          anywhere.emplace(std::make_pair(it->second.machine, base_name(path)), *resolved);
        }
      }
    }
  }

  elf::RootfsView rootfs;
  rootfs.read_file = [&view](const std::string& path) -> std::optional<std::string> {
    auto text = view.read_file(path);
    return text.ok() ? std::optional<std::string>(std::move(*text)) : std::nullopt;
  };
  rootfs.list_dir = [&view](const std::string& path) { return view.list_dir(path); };
  std::map<std::string, std::vector<std::string>> default_dirs;  // by triplet

  // The path of `soname` in `dir` if it is an ELF object for the same machine/class.
  auto lookup = [&](const std::string& dir, const std::string& soname,
                    const elf::ElfInfo& needer) -> std::string {
    auto resolved = view.resolve(dir + "/" + soname);
    if (!resolved.ok()) {
      return {};
    }
    std::string target = *resolved;
    const FileInfo* file = view.lstat(target);
    if (file != nullptr && file->type == archive::EntryType::Hardlink) {
      auto linked = view.resolve(file->link_target);
      if (!linked.ok()) {
        return {};
      }
      target = *linked;
    }
    auto it = elves.find(target);
    bool usable = it != elves.end() && it->second.machine == needer.machine &&
                  it->second.is_64 == needer.is_64;
    return usable ? target : std::string();
  };

  std::map<std::string, std::vector<std::string>> edges;  // object -> libraries it loads
  std::map<std::string, std::vector<Finding>> problems;   // object -> what it lacks
  for (const auto& [path, info] : elves) {
    if (!info.interpreter.empty()) {
      const FileInfo* interp = view.stat(info.interpreter);
      if (interp == nullptr || !interp->is_regular()) {
        problems[path].push_back(
            {"elf", path, "program interpreter " + info.interpreter + " is not in the image"});
      }
    }
    if (info.needed.empty()) {
      continue;
    }
    std::string triplet = elf::multiarch_triplet(info);
    auto defaults = default_dirs.find(triplet);
    if (defaults == default_dirs.end()) {
      defaults = default_dirs.emplace(triplet, elf::library_search_dirs(rootfs, triplet)).first;
    }
    std::vector<std::string> dirs;
    const std::string origin = dir_name(path);
    if (info.runpath.empty()) {
      for (const auto& dir : info.rpath) {
        dirs.push_back(expand_origin(dir, origin));
      }
    }
    for (const auto& dir : info.runpath) {
      dirs.push_back(expand_origin(dir, origin));
    }
    dirs.insert(dirs.end(), defaults->second.begin(), defaults->second.end());
    for (const auto& soname : info.needed) {
      bool found = false;
      if (soname.find('/') != std::string::npos) {
        found = view.stat(soname) != nullptr;
      } else {
        for (const auto& dir : dirs) {
          std::string library = lookup(dir, soname, info);
          if (!library.empty()) {
            edges[path].push_back(library);
            found = true;
            break;
          }
        }
        if (!found) {
          auto elsewhere = anywhere.find({info.machine, soname});
          if (elsewhere != anywhere.end()) {
            edges[path].push_back(elsewhere->second);
            found = true;
          }
        }
      }
      if (!found) {
        problems[path].push_back(
            {"elf", path, "needs shared library " + soname + ", which is not in the image"});
      }
    }
  }

  // Programs and everything they load at start-up must be complete; an object only
  // ever loaded by dlopen (a JNI library, a plugin) gets a warning instead.
  std::set<std::string> reachable;
  std::vector<std::string> todo;
  for (const auto& [path, info] : elves) {
    if (!info.interpreter.empty()) {
      todo.push_back(path);
    }
  }
  while (!todo.empty()) {
    std::string path = todo.back();
    todo.pop_back();
    if (!reachable.insert(path).second) {
      continue;
    }
    for (const auto& library : edges[path]) {
      todo.push_back(library);
    }
  }
  for (auto& [path, list] : problems) {
    auto& target = reachable.count(path) != 0 ? findings : warnings;
    for (auto& problem : list) {
      if (&target == &warnings) {
        problem.message += " (loaded only by dlopen: not needed at start-up)";
      }
      target.push_back(std::move(problem));
    }
  }
  return {};
}

Result<AuditReport> audit_view(const ImageView& view, const oci::ImageConfig& config,
                               const std::map<std::string, elf::ElfInfo>& elves) {
  AuditReport report;
  auto& findings = report.findings;

  bool debug_variant = view.stat("/busybox/busybox") != nullptr;
  for (const auto& entry : config.env) {
    if (entry.rfind("PATH=", 0) == 0 && entry.find("/busybox") != std::string::npos) {
      debug_variant = true;
    }
  }

  for (const auto& [path, info] : view.files()) {
    const std::string base = base_name(path);
    // shell
    if (shell_paths().count(path) != 0) {
      findings.push_back({"shell", path,
                          std::string("a shell is present") +
                              (info.is_symlink() ? " (symlink to " + info.link_target + ")" : "")});
    } else if (base == "busybox" && !info.is_dir()) {
      if (path.rfind("/busybox/", 0) == 0) {
        if (debug_variant) {
          report.expected.push_back({"shell", path, "busybox of a debug variant (expected)"});
        }
      } else {
        findings.push_back({"shell", path, "busybox outside /busybox"});
      }
    }
    // package managers
    if (!info.is_dir() && package_managers().count(base) != 0) {
      std::string dir = base_name(dir_name(path));
      if (dir == "bin" || dir == "sbin") {
        findings.push_back({"package-manager", path, "package manager " + base + " is present"});
      }
    }
    // setuid / setgid
    if (!info.is_dir() && !info.is_symlink() && (info.mode & 06000) != 0) {
      findings.push_back({"setuid", path,
                          std::string((info.mode & 04000) != 0 ? "setuid" : "setgid") +
                              " file (mode " + octal(info.mode) + ")"});
    }
    // world-writable
    if (!info.is_symlink() && (info.mode & 0002) != 0 &&
        !(info.is_dir() && (info.mode & 01000) != 0)) {
      findings.push_back({"world-writable", path,
                          std::string(info.is_dir() ? "directory" : "file") +
                              " is writable by everyone (mode " + octal(info.mode) + ")"});
    }
    // symlinks
    if (info.is_symlink()) {
      if (climbs_above_root(path, info.link_target)) {
        findings.push_back(
            {"symlink", path, "target " + info.link_target + " climbs above the image root"});
      }
    }
  }
  check_user(view, config, findings);
  DISTILL_CHECK(check_elf(view, elves, findings, report.warnings));

  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return a.check != b.check ? a.check < b.check
                              : (a.path != b.path ? a.path < b.path : a.message < b.message);
  });
  return report;
}

// The small files the checks read (users, groups, the linker's search
// path), kept while the view is folded rather than read from their layers
// again.
bool read_by_checks(std::string_view tar_path) {
  return tar_path == "etc/passwd" || tar_path == "etc/group" || tar_path == "etc/ld.so.conf" ||
         tar_path.rfind("etc/ld.so.conf.d/", 0) == 0;
}

}  // namespace

Result<AuditReport> audit_image(const OpenedImage& image) {
  ElfScan scan;
  DISTILL_TRY(auto view, ImageView::load(image, read_by_checks, scan.fn()));
  return audit_view(view, image.manifest->config, scan.held_by(view));
}

Result<AuditReport> audit_layers(const std::vector<std::filesystem::path>& layer_files,
                                 const oci::ImageConfig& config, const std::string& origin) {
  ElfScan scan;
  DISTILL_TRY(auto view, ImageView::load(layer_files, origin, read_by_checks, {}, scan.fn()));
  return audit_view(view, config, scan.held_by(view));
}

std::string format_finding(const Finding& finding) {
  if (finding.path.empty()) {
    return finding.check + ": " + finding.message;
  }
  return finding.check + " " + finding.path + ": " + finding.message;
}

}  // namespace distill::check
