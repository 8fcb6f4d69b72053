// Debian releases: the codenames distill builds images of, their version
// numbers, the host's own release (from os-release), and the parser of
// os-release files that images and hosts carry.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace distill::debian {

// The releases distill has flavors for, oldest first (bookworm, trixie).
const std::vector<std::string>& buildable_releases();
bool is_buildable_release(std::string_view codename);
// "bookworm, trixie", for messages.
std::string buildable_releases_text();
// The newest stable release distill knows (the default when the host's is unknown).
std::string newest_stable_release();

// "12" for bookworm, "13" for trixie, ... ("" for a codename distill does not know).
std::string version_id(std::string_view codename);

// The links of merged /usr that the release's base-files puts at the root for
// `arch`, as {name, target}: since Debian 13 (DEP-17) base-files ships
// bin, lib and sbin as links into usr/, and lib64 on amd64 and ppc64el, whose
// loaders are in /lib64 (measured from its .debs for amd64, arm64, armhf,
// i386 and riscv64; ppc64el's from the loader's path). None for Debian 12,
// whose packages ship real directories there.
std::vector<std::pair<std::string, std::string>> merged_usr_links(std::string_view codename,
                                                                  std::string_view arch);

// The directories the release's base-files ships with an owner or mode other
// than 0755 root (measured from its .debs: 12.4+deb12u15, 13.8+deb13u8), so
// that files placed under them keep them: /root 0700, /tmp, /var/tmp and
// /var/lock 1777 and, on Debian 12, /var/local 2775 root:staff (gid 50).
struct ShippedDirectory {
  std::string_view path;  // relative to the root
  uint32_t mode = 0755;
  uint32_t uid = 0, gid = 0;
};
std::vector<ShippedDirectory> base_files_directories(std::string_view codename);

struct OsRelease {
  std::string id;                // "debian"
  std::string version_id;        // "12"
  std::string version_codename;  // "bookworm"
  std::string pretty_name;
};
OsRelease parse_os_release(std::string_view text);

// The codename of the Debian release installed under `root` (etc/os-release,
// else usr/lib/os-release), if it is one distill can build; nullopt otherwise.
std::optional<std::string> host_release(const std::filesystem::path& root);

// The release a build uses when neither the command line nor a spec names one:
// the host's own when distill builds it, else the newest stable.
std::string default_release(const std::filesystem::path& root);

}  // namespace distill::debian
