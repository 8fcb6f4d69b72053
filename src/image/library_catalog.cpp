#include "image/library_catalog.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/deb_reader.hpp"
#include "debian/contents_index.hpp"
#include "elf/elf_reader.hpp"
#include "elf/ld_so_cache.hpp"
#include "util/file_io.hpp"
#include "util/spill_file.hpp"
#include "util/text.hpp"

namespace distill::image {

namespace {

constexpr std::string_view k_conf_dir = "etc/ld.so.conf.d/";

nlohmann::json to_json(const LibraryCatalog& catalog) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : catalog.files) {
    files.push_back({{"path", f.path},
                     {"symlink", f.symlink},
                     {"target", f.target},
                     {"elf", f.elf},
                     {"soname", f.soname},
                     {"needed", f.needed},
                     {"flags", f.cache_flags}});
  }
  nlohmann::json conf = nlohmann::json::array();
  for (const auto& [file, dirs] : catalog.conf_dirs) {
    conf.push_back({{"file", file}, {"dirs", dirs}});
  }
  return {{"version", 1}, {"files", files}, {"conf", conf}};
}

std::optional<LibraryCatalog> from_json(const std::string& text) {
  try {
    auto json = nlohmann::json::parse(text);
    if (json.at("version").get<int>() != 1) {
      return std::nullopt;
    }
    LibraryCatalog catalog;
    for (const auto& f : json.at("files")) {
      LibraryFile file;
      file.path = f.at("path").get<std::string>();
      file.symlink = f.at("symlink").get<bool>();
      file.target = f.at("target").get<std::string>();
      file.elf = f.at("elf").get<bool>();
      file.soname = f.at("soname").get<std::string>();
      file.needed = f.at("needed").get<std::vector<std::string>>();
      file.cache_flags = f.at("flags").get<int32_t>();
      catalog.files.push_back(std::move(file));
    }
    for (const auto& c : json.at("conf")) {
      catalog.conf_dirs.emplace_back(c.at("file").get<std::string>(),
                                     c.at("dirs").get<std::vector<std::string>>());
    }
    return catalog;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // rebuilt from the .deb
  }
}

std::vector<std::string> parse_conf(const std::string& text) {
  std::vector<std::string> dirs;
  for (std::string line : util::split_lines(text)) {
    if (size_t hash = line.find('#'); hash != std::string::npos) {
      line.resize(hash);
    }
    size_t b = line.find_first_not_of(" \t\r");
    size_t e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos) {
      continue;
    }
    line = line.substr(b, e - b + 1);
    if (line[0] == '/' && line.rfind("include", 0) != 0) {
      while (line.size() > 1 && line.back() == '/') {
        line.pop_back();
      }
      dirs.push_back(line);
    }
  }
  return dirs;
}

Result<LibraryCatalog> scan_deb(const InstalledPackage& package) {
  DISTILL_TRY(auto deb, open_deb(package));
  LibraryScanner scanner;
  DISTILL_CHECK(deb.for_each_data_entry(
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        if (!scanner.wants(entry)) {
          return {};
        }
        return scanner.add(entry, content, package.name,
                           [](archive::ContentReader&) -> Status { return {}; });
      }));
  return scanner.take();
}

// Files up to this size are read into memory to be cataloged; bigger ones
// (libnode.so, libjvm.so, libicudata.so: 20-50 MB) are spilled.
constexpr uint64_t k_in_memory_limit = 4U << 20;

// Passes what it reads on to a SpillFile.
class SpillingReader final : public archive::ContentReader {
 public:
  SpillingReader(archive::ContentReader& source, util::SpillFile& spill)
      : m_source(source), m_spill(spill) {}
  Result<size_t> read(void* buffer, size_t size) override {
    DISTILL_TRY(size_t n, m_source.read(buffer, size));
    DISTILL_CHECK(m_spill.write(buffer, n));
    return n;
  }
  Result<std::string_view> read_view(char* buffer, size_t size) override {
    DISTILL_TRY(std::string_view got, m_source.read_view(buffer, size));
    DISTILL_CHECK(m_spill.write(got.data(), got.size()));
    return got;
  }

 private:
  archive::ContentReader& m_source;
  util::SpillFile& m_spill;
};

std::filesystem::path catalog_record(const InstalledPackage& package,
                                     const std::filesystem::path& cache_dir) {
  return cache_dir / "libraries" / (package.sha256.hex() + ".json");
}

std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/')); }
std::string base_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

bool LibraryScanner::wants(const archive::TarEntry& entry) const {
  if (entry.path.rfind(k_conf_dir, 0) == 0) {
    return entry.type == archive::EntryType::File && entry.path.size() > 5 &&
           entry.path.substr(entry.path.size() - 5) == ".conf";
  }
  return debian::is_library_path(entry.path) &&
         (entry.type == archive::EntryType::Symlink || entry.type == archive::EntryType::File);
}

void LibraryScanner::add(const archive::TarEntry& entry, std::string_view content,
                         const std::string& package) {
  if (entry.path.rfind(k_conf_dir, 0) == 0) {
    m_catalog.conf_dirs.emplace_back(entry.path, parse_conf(std::string(content)));
    return;
  }
  LibraryFile file;
  file.path = "/" + entry.path;
  if (entry.type == archive::EntryType::Symlink) {
    file.symlink = true;
    file.target = entry.link_target;
  } else if (elf::looks_like_elf(content)) {
    // Not a loadable library (a linker script, a broken file) is no error:
    // ldconfig skips those too.
    auto info = elf::parse_elf(content, package + ": " + file.path);
    if (info.ok()) {
      file.elf = true;
      file.soname = info->soname;
      file.needed = info->needed;
      file.cache_flags = elf::cache_flags_for(*info);
    }
  }
  m_catalog.files.push_back(std::move(file));
}

Status LibraryScanner::add(const archive::TarEntry& entry, archive::ContentReader& content,
                           const std::string& package,
                           const std::function<Status(archive::ContentReader&)>& pass_on) {
  if (entry.type != archive::EntryType::File) {
    DISTILL_CHECK(pass_on(content));
    add(entry, std::string_view(), package);
    return {};
  }
  if (entry.size <= k_in_memory_limit) {
    // One buffer per thread, for every library of every package (at most
    // k_in_memory_limit): its pages are faulted in once, not for each file.
    thread_local std::string data;
    data.clear();
    DISTILL_CHECK(content.read_all_into(data, entry.size));
    archive::MemoryContentReader memory(data);
    DISTILL_CHECK(pass_on(memory));
    add(entry, data, package);
    return {};
  }
  DISTILL_TRY(auto spill, util::SpillFile::create());
  SpillingReader reader(content, spill);
  DISTILL_CHECK(pass_on(reader));
  for (std::string chunk(1U << 16, '\0');;) {  // what pass_on left
    DISTILL_TRY(size_t n, reader.read(chunk.data(), chunk.size()));
    if (n == 0) {
      break;
    }
  }
  DISTILL_TRY(auto view, spill.view());
  add(entry, view, package);
  return {};
}

Result<LibraryCatalog> package_libraries(const InstalledPackage& package,
                                         const std::filesystem::path& cache_dir) {
  if (auto text = util::read_file(catalog_record(package, cache_dir)); text.ok()) {
    if (auto catalog = from_json(*text)) {
      return *catalog;
    }
  }
  DISTILL_TRY(auto catalog, scan_deb(package));
  store_package_libraries(package, cache_dir, catalog);
  return catalog;
}

bool has_package_libraries(const InstalledPackage& package,
                           const std::filesystem::path& cache_dir) {
  std::error_code ec;
  return std::filesystem::exists(catalog_record(package, cache_dir), ec);
}

void store_package_libraries(const InstalledPackage& package,
                             const std::filesystem::path& cache_dir,
                             const LibraryCatalog& catalog) {
  std::filesystem::path record = catalog_record(package, cache_dir);
  std::error_code ec;
  std::filesystem::create_directories(record.parent_path(), ec);
  // Best effort: without the record the .deb is only read again next time.
  (void)util::write_file_atomic(record, to_json(catalog).dump());
}

std::string multiarch_triplet(const std::string& debian_arch) {
  static const std::map<std::string, std::string> k_triplets = {
      {"amd64", "x86_64-linux-gnu"},
      {"arm64", "aarch64-linux-gnu"},
      {"armhf", "arm-linux-gnueabihf"},
      {"armel", "arm-linux-gnueabi"},
      {"i386", "i386-linux-gnu"},
      {"ppc64el", "powerpc64le-linux-gnu"},
      {"s390x", "s390x-linux-gnu"},
      {"riscv64", "riscv64-linux-gnu"},
      {"mips64el", "mips64el-linux-gnuabi64"},
  };
  auto it = k_triplets.find(debian_arch);
  return it == k_triplets.end() ? debian_arch + "-linux-gnu" : it->second;
}

std::vector<std::string> library_dirs(const std::vector<LibraryCatalog>& catalogs,
                                      const std::string& triplet) {
  std::map<std::string, std::vector<std::string>> confs;  // by file name, like *.conf globbing
  for (const auto& catalog : catalogs) {
    for (const auto& [file, dirs] : catalog.conf_dirs) {
      confs[file] = dirs;
    }
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& dir) {
    if (seen.insert(dir).second) {
      out.push_back(dir);
    }
  };
  for (const auto& [file, dirs] : confs) {
    for (const auto& dir : dirs) {
      add(dir);
    }
  }
  for (const std::string& dir :
       {"/lib/" + triplet, "/usr/lib/" + triplet, std::string("/lib"), std::string("/usr/lib")}) {
    add(dir);
  }
  return out;
}

Result<std::string> make_ld_so_cache(const std::vector<LibraryCatalog>& catalogs,
                                     const std::string& triplet) {
  // Later packages win for the same path, as when they are unpacked in order.
  std::map<std::string, const LibraryFile*> by_path;
  for (const auto& catalog : catalogs) {
    for (const auto& file : catalog.files) {
      by_path[file.path] = &file;
    }
  }
  std::vector<elf::CacheEntry> entries;
  std::set<std::pair<std::string, int32_t>> taken;
  for (const auto& dir : library_dirs(catalogs, triplet)) {
    for (const auto& [path, file] : by_path) {
      if (dir_of(path) != dir || !file->elf || file->soname.empty()) {
        continue;
      }
      std::string name = base_of(path);
      if (name.rfind("lib", 0) != 0 && name.rfind("ld-", 0) != 0) {
        continue;
      }
      std::string value = dir + "/" + file->soname;
      if (by_path.count(value) == 0) {
        continue;  // ldconfig would create the soname link; Debian ships it
      }
      if (taken.insert({file->soname, file->cache_flags}).second) {
        entries.push_back({file->soname, value, file->cache_flags, 0});
      }
    }
  }
  if (entries.empty()) {
    return std::string();
  }
  return elf::build_ld_so_cache(entries);
}

}  // namespace distill::image
