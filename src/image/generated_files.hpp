// Files that come from no package: what a Debian installer, adduser and the
// maintainer scripts would have left behind, generated deterministically.
//
// What Google's distroless images carry that no package installs: passwd/group
// with root, nobody and nonroot, homes, /tmp, nsswitch, os-release. Every entry
// is owned by root unless stated, mtime = source date epoch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "archive/tar_entry.hpp"
#include "util/result.hpp"

namespace distill::image {

// One file, directory or symlink to put in a layer, with its content: in
// memory, or read from `source` on the host when that is set (app files).
struct GeneratedEntry {
  archive::TarEntry entry;
  std::string content;
  std::filesystem::path source;
  // A parent directory complete_and_sort() added, not asked for: placed over
  // the layers below, it takes their directory's owner and mode
  // (lower_tree.hpp).
  bool implied = false;
};

struct Account {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
  std::string shell = "/sbin/nologin";
};

struct Group {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

struct Accounts {
  std::vector<Account> users;
  std::vector<Group> groups;
};

// root 0, nobody 65534, nonroot 65532; groups root, nobody, tty 5, staff 50, nonroot.
Accounts default_accounts();

// Adds (or replaces, by name) users and groups on top of `base`.
Accounts merge_accounts(Accounts base, const std::vector<Account>& users,
                        const std::vector<Group>& groups);

// A user or group name as useradd/groupadd take it: [a-z_][a-z0-9_.-]*[$]?,
// at most 32 characters ('$' only last, as for Samba machine accounts).
bool valid_account_name(std::string_view name);

// A field of an /etc/passwd line (home, shell): no ':' (the field separator)
// and no control character (a newline would start another line).
bool valid_account_field(std::string_view text);

// What render_passwd/render_group would write wrongly for these accounts (a
// name that is not valid, a field with ':' or a newline, a member that is not
// valid), naming the account; "" when none. Specs are checked as they are
// read; this is for accounts from anywhere else (an image's provenance).
std::string accounts_problem(const std::vector<Account>& users, const std::vector<Group>& groups);

std::string render_passwd(const Accounts& accounts);
std::string render_group(const Accounts& accounts);

std::string render_os_release(const std::string& codename);
std::string render_nsswitch();

// The skeleton of a root image: passwd, group, /root, /home, homes of every
// account under /home, /tmp, nsswitch.conf, os-release. Sorted by path.
std::vector<GeneratedEntry> base_files(const Accounts& accounts, const std::string& codename,
                                       int64_t epoch);

// Only the account files and homes (for an image that changes accounts).
std::vector<GeneratedEntry> account_files(const Accounts& accounts, int64_t epoch);

// Helpers for building entries.
GeneratedEntry make_directory(std::string path, uint32_t mode, int64_t epoch, uint32_t uid = 0,
                              uint32_t gid = 0);
GeneratedEntry make_file(std::string path, std::string content, uint32_t mode, int64_t epoch,
                         uint32_t uid = 0, uint32_t gid = 0);
GeneratedEntry make_symlink(std::string path, std::string target, int64_t epoch);

// Adds directory entries (0755 root, `implied`) for every missing parent and
// sorts by path.
void complete_and_sort(std::vector<GeneratedEntry>& entries, int64_t epoch);

}  // namespace distill::image
