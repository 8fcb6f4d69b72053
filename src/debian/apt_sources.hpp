// APT source definitions: deb822 `.sources` files and one-line `sources.list`
// entries (sources.list(5)), and reading the host's configuration.
//
// Only `deb` (binary) entries are kept; `deb-src` entries and deb822 stanzas with
// `Enabled: no` are skipped. A source without Signed-By gets the Debian archive
// keyring. A deb822 stanza listing several URIs yields one AptSource per URI.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::debian {

inline constexpr const char* k_default_keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

struct AptSource {
  std::string url;  // without a trailing '/'
  std::vector<std::string> suites;
  std::vector<std::string> components;
  // A path to a keyring file, or an inline ASCII-armored key block.
  std::string keyring = k_default_keyring;
  std::vector<std::string> archs;  // empty: any
  std::string origin;              // "file:line" where it was defined
  bool check_valid_until = true;   // Check-Valid-Until / check-valid-until=no
};

Result<std::vector<AptSource>> parse_sources_deb822(std::string_view text,
                                                    const std::string& origin);

// One-line format: `deb [opt=value ...] URI SUITE [COMPONENT...]`; options
// signed-by=, arch=, check-valid-until= are understood, others ignored.
Result<std::vector<AptSource>> parse_sources_list(std::string_view text, const std::string& origin);

// Reads <root>/etc/apt/sources.list, <root>/etc/apt/sources.list.d/*.list and
// *.sources (in name order), keeping suites equal to `codename` or starting with
// `codename-`; sources left without suites are dropped. Missing files are fine.
// A Debian release the host lists no suite of is derived from the sources of
// the releases it does list: the same mirrors, the suites renamed
// (bookworm-security -> trixie-security), verified with debian-archive-keyring
// (a release-specific keyring of the host's would not hold the other's keys).
Result<std::vector<AptSource>> read_host_sources(const std::filesystem::path& root,
                                                 std::string_view codename);

// True when `keyring` holds an inline armored key rather than a path.
bool is_inline_key(std::string_view keyring);

// Whether apt.conf text sets Acquire::Check-Valid-Until to false (the last
// setting in the text wins). read_host_sources applies the host's setting.
bool apt_conf_disables_valid_until(std::string_view text);

}  // namespace distill::debian
