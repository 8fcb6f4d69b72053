// LibraryCatalog: the shared libraries a package puts in the library
// directories (name, soname, DT_NEEDED, ld.so.cache flags), read once from its
// .deb and cached by the .deb's sha256. It is what ldconfig would have scanned:
// the image's /etc/ld.so.cache and the `trace:` closure are computed from the
// catalogs of the installed packages, without unpacking anything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "archive/tar_entry.hpp"
#include "image/package_layer.hpp"
#include "util/result.hpp"

namespace distill::image {

struct LibraryFile {
  std::string path;  // absolute, e.g. /lib/x86_64-linux-gnu/libc.so.6
  bool symlink = false;
  std::string target;  // symlink target as written
  bool elf = false;
  std::string soname;
  std::vector<std::string> needed;
  int32_t cache_flags = 0;
};

struct LibraryCatalog {
  std::vector<LibraryFile> files;
  // Directories named by etc/ld.so.conf.d/*.conf, as {conf file, dirs}.
  std::vector<std::pair<std::string, std::vector<std::string>>> conf_dirs;
};

// Builds a package's catalog from its data.tar entries as they stream by, so
// the pass that writes the package's layer also catalogs it (one decompression
// of the .deb, not two).
class LibraryScanner {
 public:
  // Whether `entry` belongs in the catalog; then add() needs its content.
  [[nodiscard]] bool wants(const archive::TarEntry& entry) const;
  // `content`: the file's bytes (empty for a symlink). `package` names errors.
  void add(const archive::TarEntry& entry, std::string_view content, const std::string& package);
  // The same for an entry whose content streams by: `pass_on` consumes it
  // too (writes it to a layer, say; it may read less than all of it). Big
  // files are spilled to a temporary file rather than held in memory.
  Status add(const archive::TarEntry& entry, archive::ContentReader& content,
             const std::string& package,
             const std::function<Status(archive::ContentReader&)>& pass_on);
  LibraryCatalog take() { return std::move(m_catalog); }

 private:
  LibraryCatalog m_catalog;
};

// The catalog of one package, from `<cache_dir>/libraries/<sha256>.json` or
// by reading its .deb (then stored there).
Result<LibraryCatalog> package_libraries(const InstalledPackage& package,
                                         const std::filesystem::path& cache_dir);
// Whether package_libraries() would find the catalog stored.
bool has_package_libraries(const InstalledPackage& package, const std::filesystem::path& cache_dir);
// Stores a catalog made by a LibraryScanner (best effort, atomically).
void store_package_libraries(const InstalledPackage& package,
                             const std::filesystem::path& cache_dir, const LibraryCatalog& catalog);

// Debian's multiarch triplet for an architecture (amd64 -> x86_64-linux-gnu).
std::string multiarch_triplet(const std::string& debian_arch);

// The search directories ldconfig would use: ld.so.conf.d entries (in file
// name order), then /lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib.
std::vector<std::string> library_dirs(const std::vector<LibraryCatalog>& catalogs,
                                      const std::string& triplet);

// The bytes of /etc/ld.so.cache for the union of the catalogs; empty when
// the image has no shared libraries.
Result<std::string> make_ld_so_cache(const std::vector<LibraryCatalog>& catalogs,
                                     const std::string& triplet);

}  // namespace distill::image
