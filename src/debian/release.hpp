// Repository Release / InRelease files (https://wiki.debian.org/DebianRepository/Format)
// and their OpenPGP verification with gpgv, as apt does it.
//
// verify_clearsigned() accepts exactly one clear-signed message with nothing but
// whitespace around it (so no unsigned text can ride along), has gpgv check it
// against the keyring, and returns the signed text with dash-escaping removed.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::debian {

struct ReleaseEntry {
  std::string sha256;  // 64 lowercase hex
  uint64_t size = 0;
};

struct ReleaseFile {
  std::string suite, codename, date, valid_until;
  std::vector<std::string> architectures, components;
  bool acquire_by_hash = false;
  // "No-Support-for-Architecture-all: Packages": arch-all packages are already in
  // every binary-<arch>/Packages, so binary-all need not be fetched.
  bool all_in_arch_indexes = false;
  std::map<std::string, ReleaseEntry> sha256;  // path relative to dists/<suite>/
};

Result<ReleaseFile> parse_release(std::string_view text, const std::string& origin);

// `keyring`: a keyring file (binary or armored) or an inline armored key block.
// Returns the signed payload. A bad signature or unknown key is Corrupt.
Result<std::string> verify_clearsigned(std::string_view inrelease, const std::string& keyring,
                                       const std::string& origin);

// Checks a detached signature (Release + Release.gpg).
Status verify_detached(std::string_view release, std::string_view signature,
                       const std::string& keyring, const std::string& origin);

// An expired Valid-Until (or one that cannot be parsed) is a Corrupt error.
Status check_valid_until(const ReleaseFile& release, std::time_t now, const std::string& origin);

// Parses an RFC 2822 date as Release files write it ("Sat, 11 Jul 2026 10:16:37 UTC").
Result<std::time_t> parse_release_date(std::string_view text);

// Removes the clear-sign armor and dash-escaping; the structure is checked strictly.
Result<std::string> clearsigned_payload(std::string_view inrelease, const std::string& origin);

// The value of one field of a Release or InRelease file's header, found by
// reading its lines up to that field rather than parsing the whole file (whose
// checksum lists are most of it): what a build reads of a cached, already
// verified copy. Empty when the field is not there.
std::string release_header_field(std::string_view text, std::string_view name);

}  // namespace distill::debian
