// User resolution: see user_spec.hpp (docker's rules, passwd(5), group(5)).
#include "runtime/user_spec.hpp"

#include <algorithm>
#include <charconv>

#include "runtime/root_dir.hpp"

namespace distill::runtime {

namespace {

std::vector<std::string_view> split_fields(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (;;) {
    size_t end = line.find(separator, start);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

std::optional<uint32_t> parse_id(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && line.front() != '#') {
      fn(line);
    }
    start = end + 1;
  }
}

Result<std::string> read_optional(const RootDir& root, const std::string& path) {
  auto data = root.read_file(path);
  if (!data.ok() && data.error().kind == ErrorKind::NotFound) {
    return std::string();
  }
  return data;
}

}  // namespace

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> entries;
  for_each_line(text, [&](std::string_view line) {
    auto fields = split_fields(line, ':');
    if (fields.size() < 4 || fields[0].empty()) {
      return;
    }
    auto uid = parse_id(fields[2]);
    auto gid = parse_id(fields[3]);
    if (!uid || !gid) {
      return;
    }
    PasswdEntry entry{std::string(fields[0]), *uid, *gid, {}};
    if (fields.size() >= 6) {
      entry.home = std::string(fields[5]);
    }
    entries.push_back(std::move(entry));
  });
  return entries;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> entries;
  for_each_line(text, [&](std::string_view line) {
    auto fields = split_fields(line, ':');
    if (fields.size() < 3 || fields[0].empty()) {
      return;
    }
    auto gid = parse_id(fields[2]);
    if (!gid) {
      return;
    }
    GroupEntry entry{std::string(fields[0]), *gid, {}};
    if (fields.size() >= 4 && !fields[3].empty()) {
      for (auto member : split_fields(fields[3], ',')) {
        if (!member.empty()) {
          entry.members.emplace_back(member);
        }
      }
    }
    entries.push_back(std::move(entry));
  });
  return entries;
}

Result<ProcessUser> resolve_user(const std::string& user, std::string_view passwd,
                                 std::string_view group) {
  const size_t colon = user.find(':');
  std::string user_part = user.substr(0, colon);
  std::optional<std::string> group_part;
  if (colon != std::string::npos) {
    group_part = user.substr(colon + 1);
  }
  if (user_part.empty()) {
    user_part.push_back('0');
  }
  std::vector<PasswdEntry> users = parse_passwd(passwd);
  std::vector<GroupEntry> groups = parse_group(group);

  ProcessUser result;
  std::optional<std::string> name;
  const PasswdEntry* found = nullptr;
  if (auto uid = parse_id(user_part)) {
    result.uid = *uid;
    for (const auto& entry : users) {
      if (entry.uid == *uid) {
        found = &entry;
        break;
      }
    }
  } else {
    for (const auto& entry : users) {
      if (entry.name == user_part) {
        found = &entry;
        break;
      }
    }
    if (found == nullptr) {
      return make_error(ErrorKind::NotFound,
                        "user '" + user_part + "': no such user in the image's /etc/passwd");
    }
    result.uid = found->uid;
  }
  if (found != nullptr) {
    result.gid = found->gid;
    name = found->name;
  }

  if (group_part) {
    if (group_part->empty()) {
      return make_error(ErrorKind::InvalidInput, "user '" + user + "': empty group");
    }
    if (auto gid = parse_id(*group_part)) {
      result.gid = *gid;
    } else {
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const GroupEntry& entry) { return entry.name == *group_part; });
      if (it == groups.end()) {
        return make_error(ErrorKind::NotFound,
                          "group '" + *group_part + "': no such group in the image's /etc/group");
      }
      result.gid = it->gid;
    }
  }

  if (name) {
    for (const auto& entry : groups) {
      if (entry.gid != result.gid &&
          std::find(entry.members.begin(), entry.members.end(), *name) != entry.members.end()) {
        result.additional_gids.push_back(entry.gid);
      }
    }
  }
  std::sort(result.additional_gids.begin(), result.additional_gids.end());
  result.additional_gids.erase(
      std::unique(result.additional_gids.begin(), result.additional_gids.end()),
      result.additional_gids.end());
  return result;
}

Result<ProcessUser> resolve_user_in_rootfs(const std::string& user,
                                           const std::filesystem::path& rootfs) {
  DISTILL_TRY(RootDir root, RootDir::open(rootfs));
  DISTILL_TRY(std::string passwd, read_optional(root, "etc/passwd"));
  DISTILL_TRY(std::string group, read_optional(root, "etc/group"));
  return resolve_user(user, passwd, group);
}

std::optional<std::string> home_of(uint32_t uid, const std::filesystem::path& rootfs) {
  auto root = RootDir::open(rootfs);
  if (!root.ok()) {
    return std::nullopt;
  }
  auto passwd = root->read_file("etc/passwd");
  if (!passwd.ok()) {
    return std::nullopt;
  }
  for (const auto& entry : parse_passwd(*passwd)) {
    if (entry.uid == uid && !entry.home.empty()) {
      return entry.home;
    }
  }
  return std::nullopt;
}

}  // namespace distill::runtime
