#include "image/generated_files.hpp"

#include <algorithm>
#include <set>

#include "debian/releases.hpp"

namespace distill::image {

namespace {

constexpr uint32_t k_nonroot = 65532;
constexpr uint32_t k_nobody = 65534;

}  // namespace

Accounts default_accounts() {
  Accounts accounts;
  accounts.users = {
      {"root", 0, 0, "/root", "/sbin/nologin"},
      {"nobody", k_nobody, k_nobody, "/nonexistent", "/sbin/nologin"},
      {"nonroot", k_nonroot, k_nonroot, "/home/nonroot", "/sbin/nologin"},
  };
  accounts.groups = {
      {"root", 0, {}},   {"nobody", k_nobody, {}},   {"tty", 5, {}},
      {"staff", 50, {}}, {"nonroot", k_nonroot, {}},
  };
  return accounts;
}

Accounts merge_accounts(Accounts base, const std::vector<Account>& users,
                        const std::vector<Group>& groups) {
  for (const auto& user : users) {
    auto it = std::find_if(base.users.begin(), base.users.end(),
                           [&](const Account& a) { return a.name == user.name; });
    if (it != base.users.end()) {
      *it = user;
    } else {
      base.users.push_back(user);
    }
  }
  for (const auto& group : groups) {
    auto it = std::find_if(base.groups.begin(), base.groups.end(),
                           [&](const Group& g) { return g.name == group.name; });
    if (it != base.groups.end()) {
      *it = group;
    } else {
      base.groups.push_back(group);
    }
  }
  return base;
}

bool valid_account_name(std::string_view name) {
  if (name.empty() || name.size() > 32) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || c == '_' ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '-' || c == '.')) ||
              (i > 0 && c == '$' && i + 1 == name.size());
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool valid_account_field(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    return c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

std::string accounts_problem(const std::vector<Account>& users, const std::vector<Group>& groups) {
  for (const auto& u : users) {
    if (!valid_account_name(u.name)) {
      return "user name '" + u.name + "' is not valid";
    }
    if (!valid_account_field(u.home) || !valid_account_field(u.shell)) {
      return "user '" + u.name + "': home and shell must not contain ':' or control characters";
    }
  }
  for (const auto& g : groups) {
    if (!valid_account_name(g.name)) {
      return "group name '" + g.name + "' is not valid";
    }
    for (const auto& m : g.members) {
      if (!valid_account_name(m)) {
        return "member '" + m + "' of group '" + g.name + "' is not a valid user name";
      }
    }
  }
  return {};
}

std::string render_passwd(const Accounts& accounts) {
  std::string out;
  for (const auto& u : accounts.users) {
    out += u.name + ":x:" + std::to_string(u.uid) + ":" + std::to_string(u.gid) + ":" + u.name +
           ":" + u.home + ":" + u.shell + "\n";
  }
  return out;
}

std::string render_group(const Accounts& accounts) {
  std::string out;
  for (const auto& g : accounts.groups) {
    out += g.name + ":x:" + std::to_string(g.gid) + ":";
    for (size_t i = 0; i < g.members.size(); ++i) {
      out += (i == 0 ? "" : ",") + g.members[i];
    }
    out += "\n";
  }
  return out;
}

std::string render_os_release(const std::string& codename) {
  std::string id = debian::version_id(codename);
  std::string version = id.empty() ? codename : id + " (" + codename + ")";
  std::string out;
  out += "PRETTY_NAME=\"Distill (Debian GNU/Linux " + version + ")\"\n";
  out += "NAME=\"Debian GNU/Linux\"\n";
  if (!id.empty()) {
    out += "VERSION_ID=\"" + id + "\"\n";
  }
  out += "VERSION=\"Debian GNU/Linux " + version + "\"\n";
  out += "VERSION_CODENAME=" + codename + "\n";
  out += "ID=\"debian\"\n";
  out += "HOME_URL=\"https://www.debian.org/\"\n";
  out += "SUPPORT_URL=\"https://www.debian.org/support\"\n";
  out += "BUG_REPORT_URL=\"https://bugs.debian.org/\"\n";
  return out;
}

std::string render_nsswitch() {
  return "passwd:         compat\n"
         "group:          compat\n"
         "shadow:         compat\n"
         "gshadow:        files\n"
         "\n"
         "hosts:          files dns\n"
         "networks:       files\n"
         "\n"
         "protocols:      db files\n"
         "services:       db files\n"
         "ethers:         db files\n"
         "rpc:            db files\n"
         "\n"
         "netgroup:       nis\n";
}

GeneratedEntry make_directory(std::string path, uint32_t mode, int64_t epoch, uint32_t uid,
                              uint32_t gid) {
  GeneratedEntry g;
  g.entry.path = std::move(path);
  g.entry.type = archive::EntryType::Directory;
  g.entry.mode = mode;
  g.entry.uid = uid;
  g.entry.gid = gid;
  g.entry.mtime = epoch;
  return g;
}

GeneratedEntry make_file(std::string path, std::string content, uint32_t mode, int64_t epoch,
                         uint32_t uid, uint32_t gid) {
  GeneratedEntry g;
  g.entry.path = std::move(path);
  g.entry.type = archive::EntryType::File;
  g.entry.mode = mode;
  g.entry.uid = uid;
  g.entry.gid = gid;
  g.entry.mtime = epoch;
  g.entry.size = content.size();
  g.content = std::move(content);
  return g;
}

GeneratedEntry make_symlink(std::string path, std::string target, int64_t epoch) {
  GeneratedEntry g;
  g.entry.path = std::move(path);
  g.entry.type = archive::EntryType::Symlink;
  g.entry.mode = 0777;
  g.entry.mtime = epoch;
  g.entry.link_target = std::move(target);
  return g;
}

void complete_and_sort(std::vector<GeneratedEntry>& entries, int64_t epoch) {
  std::set<std::string> present;
  for (const auto& e : entries) {
    present.insert(e.entry.path);
  }
  std::vector<GeneratedEntry> parents;
  for (const auto& e : entries) {
    std::string path = e.entry.path;
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      std::string parent = path.substr(0, slash);
      if (present.insert(parent).second) {
        parents.push_back(make_directory(parent, 0755, epoch));
        parents.back().implied = true;
      }
    }
  }
  entries.insert(entries.end(), parents.begin(), parents.end());
  std::sort(entries.begin(), entries.end(), [](const GeneratedEntry& a, const GeneratedEntry& b) {
    return a.entry.path < b.entry.path;
  });
}

std::vector<GeneratedEntry> account_files(const Accounts& accounts, int64_t epoch) {
  std::vector<GeneratedEntry> out;
  out.push_back(make_file("etc/passwd", render_passwd(accounts), 0644, epoch));
  out.push_back(make_file("etc/group", render_group(accounts), 0644, epoch));
  std::set<std::string> homes;
  for (const auto& u : accounts.users) {
    // Specs only require an absolute home: "/srv/app/" or "/opt//x" must give
    // one clean entry, and "//" (the root) none, not an out_of_range throw.
    auto normalized = archive::normalize_path(u.home, "home of " + u.name);
    if (!normalized.ok() || *normalized == "nonexistent") {
      continue;
    }
    std::string home = std::move(*normalized);
    if (!homes.insert(home).second) {
      continue;
    }
    out.push_back(make_directory(home, 0700, epoch, u.uid, u.gid));
  }
  complete_and_sort(out, epoch);
  return out;
}

std::vector<GeneratedEntry> base_files(const Accounts& accounts, const std::string& codename,
                                       int64_t epoch) {
  std::vector<GeneratedEntry> out = account_files(accounts, epoch);
  out.push_back(make_directory("tmp", 01777, epoch));
  out.push_back(make_directory("home", 0755, epoch));
  out.push_back(make_file("etc/nsswitch.conf", render_nsswitch(), 0644, epoch));
  out.push_back(make_file("usr/lib/os-release", render_os_release(codename), 0644, epoch));
  out.push_back(make_symlink("etc/os-release", "../usr/lib/os-release", epoch));
  // account_files may already have added "home" as a parent; keep the first.
  std::sort(out.begin(), out.end(), [](const GeneratedEntry& a, const GeneratedEntry& b) {
    return a.entry.path < b.entry.path;
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const GeneratedEntry& a, const GeneratedEntry& b) {
                          return a.entry.path == b.entry.path;
                        }),
            out.end());
  complete_and_sort(out, epoch);
  return out;
}

}  // namespace distill::image
