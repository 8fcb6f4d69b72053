// Credentials for repository URLs, kept out of every URL that is printed or
// stored (lock files, cached resolutions, error messages).
//
// A source URL written as http://user:pass@host/path is split once, where it
// is read (strip_credentials): the rest of the program only sees
// http://host/path, and the curl client looks the credentials up again by
// URL when it sends a request. Like apt, credentials also come from
// /etc/apt/auth.conf and /etc/apt/auth.conf.d/*.conf (apt_auth.conf(5):
// `machine HOST[:PORT][/PATH] login USER password PASS`, the longest matching
// machine wins; a machine without scheme matches https only unless it is
// named with http://).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace distill::net {

struct Credentials {
  std::string login;
  std::string password;
};

// `url` without its userinfo ("user:pass@"); when it had one, the credentials
// are remembered for every URL under it (same scheme, host, port, path prefix).
std::string strip_credentials(std::string_view url);

// `url` with any userinfo replaced by "***@", for text that must show it.
std::string redact_url(std::string_view url);

// The credentials for a request to `url`: remembered ones first, then apt's
// auth.conf files under `apt_root` (read once per process).
std::optional<Credentials> credentials_for(std::string_view url);

// Reads auth.conf files from `root`/etc/apt instead of /etc/apt (tests), and
// forgets what was remembered.
void reset_credentials_for_tests(const std::filesystem::path& root);

}  // namespace distill::net
