// The Debian Contents index (dists/<suite>/<component>/Contents-<arch>.gz, see
// https://wiki.debian.org/DebianRepository/Format#A.22Contents.22_indices):
// one line per file, `path<whitespace>[area/]section/package[,...]`, paths
// relative to the root. Used by `trace:` to find the package that ships a shared
// library (soname) no installed package provides.
//
// The uncompressed index is ~150 MB for bookworm main amd64, so it is streamed:
// ContentsScanner accepts the text in chunks split anywhere and keeps only the
// entries whose file name contains ".so" and whose directory is a library
// directory (lib, usr/lib, lib64, usr/lib64, lib32, usr/lib32, libx32,
// usr/libx32, and {lib,usr/lib}/<multiarch triplet>); that is ~25,000 entries.
//
// load_soname_providers() fetches the index the way repository.cpp fetches
// Packages: InRelease verified with gpgv, the file chosen and checked by the
// Release's SHA256 list (by-hash first), stored in the ContentCache. The scan
// result is cached too, as <cache>/contents/<key>.txt (key: SHA-256 over the
// Contents digests used), so a warm call neither downloads nor rescans.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "debian/apt_sources.hpp"
#include "debian/repository.hpp"
#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "util/result.hpp"

namespace distill::debian {

struct SonameProviders {
  // File name ("libssl.so.3") -> every (path, package names) shipping it. Paths are
  // without a leading '/', each vector is sorted by path, package names are sorted
  // and unique.
  std::map<std::string, std::vector<std::pair<std::string, std::vector<std::string>>>> by_name;
};

// Whether `path` (relative, no leading '/') is a file kept by the scanner: its
// name contains ".so" and its directory is a library directory.
bool is_library_path(std::string_view path);

// Incremental Contents parser adding library entries to `out`.
class ContentsScanner {
 public:
  ContentsScanner(SonameProviders& out, std::string origin)
      : m_out(out), m_origin(std::move(origin)) {}

  // Any split of the text is fine. A library line without a package list, or a
  // line longer than 64 KiB, is Corrupt naming origin:line.
  Status feed(std::string_view chunk);
  // Processes a last line without '\n'. Idempotent.
  Status finish();

 private:
  Status line(std::string_view text);

  SonameProviders& m_out;
  std::string m_origin;
  std::string m_carry;
  size_t m_line = 0;
  bool m_finished = false;
};

// The whole text at once (feed + finish).
Status scan_contents(std::string_view text, SonameProviders& out, const std::string& origin);

// Adds one entry, merging with an existing one for the same path.
void add_soname_provider(SonameProviders& out, std::string_view path,
                         std::vector<std::string> packages);

// Contents-format text of `providers` (a header comment, then `path\tpkg,pkg` per
// entry in (name, path) order); scan_contents() reads it back unchanged.
std::string serialize_soname_providers(const SonameProviders& providers);

// Fetches, verifies and scans Contents-<arch> of every suite and component of
// `sources` (sources whose archs exclude `arch` are skipped) and merges them.
// A component's index is looked up as <component>/Contents-<arch>.{xz,gz,} and
// else at the suite root Contents-<arch>.{xz,gz,}; a suite without any is
// skipped, but no index at all is NotFound. Contents-all is not read (shared
// libraries are architecture-specific).
Result<SonameProviders> load_soname_providers(net::HttpClient& client, net::ContentCache& cache,
                                              const std::vector<AptSource>& sources,
                                              const std::string& arch,
                                              const RepositoryOptions& options);

// Packages shipping `soname`, best first: paths in lib/<triplet> or
// usr/lib/<triplet>, then lib/, usr/lib/, lib64/, usr/lib64/, then the other
// non-multiarch library directories; paths in another triplet's directory are
// ignored (unless `triplet` is empty). Ties go by path; each package is listed
// once, at its best position. Empty when nothing ships it.
std::vector<std::string> packages_for_soname(const SonameProviders& providers,
                                             const std::string& soname, const std::string& triplet);

}  // namespace distill::debian
