// Resolving a container's `User` ("uid[:gid]", "name[:group]", or empty = root)
// to numeric ids through the image's own /etc/passwd and /etc/group, with docker's
// rules: a numeric uid need not exist (its gid is then 0 unless given), a name must;
// supplementary groups are the /etc/group entries listing the user as a member.
// See https://github.com/opencontainers/image-spec/blob/main/config.md (User).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::runtime {

struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;  // sorted, without `gid`
};

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

// Parsers of the colon-separated files; malformed lines are skipped (as libc does).
std::vector<PasswdEntry> parse_passwd(std::string_view text);
std::vector<GroupEntry> parse_group(std::string_view text);

// Resolves `user` against the given file contents (empty when the file is absent).
Result<ProcessUser> resolve_user(const std::string& user, std::string_view passwd,
                                 std::string_view group);

// Reads <rootfs>/etc/passwd and /etc/group (confined to the rootfs) and resolves.
Result<ProcessUser> resolve_user_in_rootfs(const std::string& user,
                                           const std::filesystem::path& rootfs);

// The home directory of `uid` in <rootfs>/etc/passwd, if listed (for HOME).
std::optional<std::string> home_of(uint32_t uid, const std::filesystem::path& rootfs);

}  // namespace distill::runtime
