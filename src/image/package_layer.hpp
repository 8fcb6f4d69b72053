// Writing Debian packages into a layer, the way dpkg would unpack them but with
// no maintainer script: the data.tar entries unmodified (owned by root), then
// the package's control paragraph and md5sums as
// /var/lib/dpkg/status.d/<name>{,.md5sums} so scanners (Trivy, Grype, Syft)
// find it, as Google's distroless images lay them out.
//
// ca-certificates is the one package whose script matters: its certificates are
// concatenated into /etc/ssl/certs/ca-certificates.crt (what
// update-ca-certificates produces) and the individual files are not shipped.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "archive/deb_reader.hpp"
#include "crypto/sha256.hpp"
#include "image/layer_writer.hpp"
#include "util/result.hpp"

namespace distill::image {

// A package chosen for the image, with its downloaded .deb.
struct InstalledPackage {
  std::string name;
  std::string version;
  std::string arch;
  crypto::Digest sha256;  // of the .deb
  uint64_t size = 0;
  std::string filename;  // path in the archive (pool/...)
  std::string repo_url;
  std::filesystem::path deb_file;
};

// The package's .deb, opened. Its bytes are those its index's SHA-256 names:
// the content cache verified them (net/content_cache.hpp), so the xz checks
// of its members are not computed again (archive::Checksums::Skip).
Result<archive::DebReader> open_deb(const InstalledPackage& package);

// Whether a package of that name is among `packages`.
bool has_package(const std::vector<InstalledPackage>& packages, std::string_view name);

inline constexpr std::string_view k_status_dir = "var/lib/dpkg/status.d";
inline constexpr std::string_view k_ca_bundle = "etc/ssl/certs/ca-certificates.crt";

// The CA bundle a ca-certificates .deb yields (its certificates concatenated
// in path order), as written to k_ca_bundle.
Result<std::string> read_ca_bundle(const InstalledPackage& package);

// A .deb must be the package the index named: its control file's Package,
// Version and Architecture equal the entry's (Corrupt otherwise, naming the
// package), and the name is a valid Debian package name (it becomes
// status.d/<name>).
Status check_control_matches(const InstalledPackage& package, const std::string& control_text);

// Writes one package (data entries, then status.d) into `layer`; refuses a
// .deb that fails check_control_matches.
class LibraryScanner;
// Its control file and md5sums come from the record kept in `cache_dir`
// (package_control.hpp). With `libraries`, the package's library files are
// also fed to it in the same pass over the .deb.
Status write_package(LayerWriter& layer, const InstalledPackage& package, int64_t epoch,
                     const std::filesystem::path& cache_dir, LibraryScanner* libraries = nullptr);

}  // namespace distill::image
