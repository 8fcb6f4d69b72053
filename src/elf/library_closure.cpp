// Library closure (see library_closure.hpp): ld.so's search algorithm, run over a
// RootfsView instead of the live filesystem. Follows ld.so(8) and ldconfig(8).
#include "elf/library_closure.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "util/file_io.hpp"
#include "util/path_in_root.hpp"

namespace distill::elf {
namespace {

namespace fs = std::filesystem;

// Resolves `path` inside `root` like a chroot would; the result is a host path
// under root (the final component may not exist), or nullopt on a symlink loop.
std::optional<fs::path> resolve_in_root(const fs::path& root, const std::string& path) {
  auto resolved = util::resolve_in_directory(root, path);
  if (!resolved) {
    return std::nullopt;
  }
  fs::path out = root;
  for (const auto& d : *resolved) {
    out /= d;
  }
  return out;
}

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

std::string join(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') {
    return dir + name;
  }
  return dir + "/" + name;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

std::string platform_of(const ElfInfo& info) {
  switch (info.machine) {
    case k_em_x86_64:
      return "x86_64";
    case k_em_386:
      return "i686";
    case k_em_aarch64:
      return "aarch64";
    default:
      return "";
  }
}

// Expands $ORIGIN/${ORIGIN}, $LIB/${LIB}, $PLATFORM/${PLATFORM} in a path list entry.
std::string expand_dst(const std::string& entry, const std::string& origin_dir,
                       const ElfInfo& info) {
  std::string lib = "lib/" + multiarch_triplet(info);
  std::string out = entry;
  out = replace_all(out, "${ORIGIN}", origin_dir);
  out = replace_all(out, "$ORIGIN", origin_dir);
  out = replace_all(out, "${LIB}", lib);
  out = replace_all(out, "$LIB", lib);
  out = replace_all(out, "${PLATFORM}", platform_of(info));
  out = replace_all(out, "$PLATFORM", platform_of(info));
  return out;
}

void read_ld_so_conf(const RootfsView& root, const std::string& file, int depth,
                     std::vector<std::string>& dirs) {
  if (depth > 8) {
    return;
  }
  auto text = root.read_file(file);
  if (!text) {
    return;
  }
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) {
      end = text->size();
    }
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    if (size_t hash = line.find('#'); hash != std::string::npos) {
      line.resize(hash);
    }
    std::vector<std::string> words;
    size_t w = 0;
    while (w < line.size()) {
      size_t s = line.find_first_not_of(" \t\r", w);
      if (s == std::string::npos) {
        break;
      }
      size_t e = line.find_first_of(" \t\r", s);
      if (e == std::string::npos) {
        e = line.size();
      }
      words.push_back(line.substr(s, e - s));
      w = e;
    }
    if (words.empty()) {
      continue;
    }
    if (words[0] == "include") {
      for (size_t i = 1; i < words.size(); ++i) {
        std::string pattern = words[i];
        if (pattern[0] != '/') {
          pattern = join(dirname_of(file), pattern);
        }
        std::string dir = dirname_of(pattern);
        std::string glob = pattern.substr(pattern.rfind('/') + 1);
        std::vector<std::string> names = root.list_dir(dir);
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
          if (::fnmatch(glob.c_str(), name.c_str(), FNM_PERIOD) == 0) {
            read_ld_so_conf(root, join(dir, name), depth + 1, dirs);
          }
        }
      }
    } else if (words[0] == "hwcap") {
      continue;
    } else {
      for (const auto& word : words) {
        // "dir=TYPE" is an old libc5 form; the type is ignored.
        std::string dir = word.substr(0, word.find('='));
        if (!dir.empty() && dir[0] == '/') {
          while (dir.size() > 1 && dir.back() == '/') {
            dir.pop_back();
          }
          dirs.push_back(dir);
        }
      }
    }
  }
}

class ClosureWalker {
 public:
  ClosureWalker(const RootfsView& root, std::vector<std::string> search_dirs)
      : m_root(root), m_search_dirs(std::move(search_dirs)) {}

  Status add_root_object(const std::string& path) {
    auto data = m_root.read_file(path);
    if (!data) {
      return make_error(ErrorKind::NotFound, path + ": no such file in the image");
    }
    DISTILL_TRY(ElfInfo info, parse_elf(*data, path));
    // Only an executable's PT_INTERP is used (a library's is ignored by ld.so).
    if (!info.interpreter.empty() && m_result.found.count(info.interpreter) == 0) {
      if (auto interp = m_root.read_file(info.interpreter)) {
        m_result.found[info.interpreter] = info.interpreter;
        // ld.so is loaded under its soname too: a DT_NEEDED on it is satisfied.
        auto interp_info = parse_elf(*interp, info.interpreter);
        if (interp_info.ok() && !interp_info->soname.empty()) {
          m_result.found.emplace(interp_info->soname, info.interpreter);
        }
      } else {
        add_missing(info.interpreter, path);
      }
    }
    walk(path, info, {});
    return {};
  }

  LibraryClosure take() {
    std::sort(m_result.missing.begin(), m_result.missing.end(),
              [](const MissingLibrary& a, const MissingLibrary& b) {
                return a.soname != b.soname ? a.soname < b.soname : a.needed_by < b.needed_by;
              });
    return std::move(m_result);
  }

 private:
  void add_missing(const std::string& soname, const std::string& needed_by) {
    for (const auto& m : m_result.missing) {
      if (m.soname == soname && m.needed_by == needed_by) {
        return;
      }
    }
    m_result.missing.push_back({soname, needed_by});
  }

  void walk(const std::string& path, const ElfInfo& info,
            const std::vector<std::string>& inherited_rpath) {
    if (!m_visited.insert(path).second) {
      return;
    }
    std::string origin = dirname_of(path);
    // DT_RPATH applies to the object and to what it loads, unless DT_RUNPATH is set.
    std::vector<std::string> rpath;
    if (info.runpath.empty()) {
      for (const auto& entry : info.rpath) {
        rpath.push_back(expand_dst(entry, origin, info));
      }
      rpath.insert(rpath.end(), inherited_rpath.begin(), inherited_rpath.end());
    }
    std::vector<std::string> runpath;
    for (const auto& entry : info.runpath) {
      runpath.push_back(expand_dst(entry, origin, info));
    }
    for (const auto& soname : info.needed) {
      if (m_result.found.count(soname) != 0) {
        continue;
      }
      auto hit = find(soname, info, rpath, runpath);
      if (!hit) {
        add_missing(soname, path);
        continue;
      }
      m_result.found[soname] = hit->first;
      walk(hit->first, hit->second, rpath);
    }
  }

  std::optional<std::pair<std::string, ElfInfo>> try_candidate(const std::string& path,
                                                               const ElfInfo& wanted) {
    auto data = m_root.read_file(path);
    if (!data || !looks_like_elf(*data)) {
      return std::nullopt;
    }
    auto info = parse_elf(*data, path);
    if (!info.ok() || info->machine != wanted.machine || info->is_64 != wanted.is_64) {
      return std::nullopt;
    }
    return std::make_pair(path, std::move(*info));
  }

  std::optional<std::pair<std::string, ElfInfo>> find(const std::string& soname,
                                                      const ElfInfo& requester,
                                                      const std::vector<std::string>& rpath,
                                                      const std::vector<std::string>& runpath) {
    if (soname.find('/') != std::string::npos) {
      return soname[0] == '/' ? try_candidate(soname, requester) : std::nullopt;
    }
    const std::vector<std::string>* lists[] = {&rpath, &runpath, &m_search_dirs};
    for (const auto* dirs : lists) {
      for (const auto& dir : *dirs) {
        if (dir.empty() || dir[0] != '/') {
          continue;  // relative entries depend on the working directory: ignored
        }
        if (auto hit = try_candidate(join(dir, soname), requester)) {
          return hit;
        }
      }
    }
    return std::nullopt;
  }

  const RootfsView& m_root;
  std::vector<std::string> m_search_dirs;
  std::set<std::string> m_visited;
  LibraryClosure m_result;
};

}  // namespace

RootfsView directory_rootfs(const std::filesystem::path& root) {
  RootfsView view;
  view.read_file = [root](const std::string& path) -> std::optional<std::string> {
    auto host = resolve_in_root(root, path);
    std::error_code ec;
    if (!host || !fs::is_regular_file(*host, ec)) {
      return std::nullopt;
    }
    auto data = util::read_file(*host);
    if (!data.ok()) {
      return std::nullopt;
    }
    return std::move(*data);
  };
  view.list_dir = [root](const std::string& path) {
    std::vector<std::string> names;
    auto host = resolve_in_root(root, path);
    std::error_code ec;
    if (!host || !fs::is_directory(*host, ec)) {
      return names;
    }
    for (fs::directory_iterator it(*host, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  return view;
}

std::vector<std::string> library_search_dirs(const RootfsView& root, const std::string& triplet) {
  std::vector<std::string> dirs;
  read_ld_so_conf(root, "/etc/ld.so.conf", 0, dirs);
  if (!triplet.empty()) {
    dirs.push_back("/lib/" + triplet);
    dirs.push_back("/usr/lib/" + triplet);
  }
  for (const char* d : {"/lib", "/usr/lib", "/lib64", "/usr/lib64"}) {
    dirs.emplace_back(d);
  }
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (auto& d : dirs) {
    if (seen.insert(d).second) {
      unique.push_back(std::move(d));
    }
  }
  return unique;
}

Result<LibraryClosure> library_closure(const RootfsView& root,
                                       const std::vector<std::string>& paths,
                                       const std::vector<std::string>& search_dirs) {
  std::vector<std::string> dirs = search_dirs;
  if (dirs.empty() && !paths.empty()) {
    auto data = root.read_file(paths.front());
    if (!data) {
      return make_error(ErrorKind::NotFound, paths.front() + ": no such file in the image");
    }
    DISTILL_TRY(ElfInfo first, parse_elf(*data, paths.front()));
    dirs = library_search_dirs(root, multiarch_triplet(first));
  }
  ClosureWalker walker(root, std::move(dirs));
  for (const auto& path : paths) {
    DISTILL_CHECK(walker.add_root_object(path));
  }
  return walker.take();
}

}  // namespace distill::elf
