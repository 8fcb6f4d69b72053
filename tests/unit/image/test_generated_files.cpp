// Generated files: what adduser, base-files and the installer would have left in
// a root image (accounts, homes, /tmp, nsswitch.conf, os-release), byte for byte,
// with every mtime at the source date epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "image/generated_files.hpp"

namespace distill::image {
namespace {

using archive::EntryType;

constexpr int64_t k_epoch = 1700000000;

std::vector<std::string> paths_of(const std::vector<GeneratedEntry>& entries) {
  std::vector<std::string> paths;
  for (const auto& e : entries) {
    paths.push_back(e.entry.path);
  }
  return paths;
}

std::map<std::string, GeneratedEntry> by_path(const std::vector<GeneratedEntry>& entries) {
  std::map<std::string, GeneratedEntry> out;
  for (const auto& e : entries) {
    EXPECT_TRUE(out.emplace(e.entry.path, e).second) << "duplicate entry " << e.entry.path;
  }
  return out;
}

const Account* find_user(const Accounts& accounts, const std::string& name) {
  for (const auto& u : accounts.users) {
    if (u.name == name) {
      return &u;
    }
  }
  return nullptr;
}

const Group* find_group(const Accounts& accounts, const std::string& name) {
  for (const auto& g : accounts.groups) {
    if (g.name == name) {
      return &g;
    }
  }
  return nullptr;
}

TEST(GeneratedFiles, DefaultAccountsAreRootNobodyAndNonroot) {
  Accounts accounts = default_accounts();
  ASSERT_EQ(accounts.users.size(), 3U);
  const Account* root = find_user(accounts, "root");
  const Account* nobody = find_user(accounts, "nobody");
  const Account* nonroot = find_user(accounts, "nonroot");
  ASSERT_NE(root, nullptr);
  ASSERT_NE(nobody, nullptr);
  ASSERT_NE(nonroot, nullptr);
  EXPECT_EQ(root->uid, 0U);
  EXPECT_EQ(root->gid, 0U);
  EXPECT_EQ(root->home, "/root");
  EXPECT_EQ(nobody->uid, 65534U);
  EXPECT_EQ(nobody->gid, 65534U);
  EXPECT_EQ(nobody->home, "/nonexistent");
  // The distroless nonroot user: 65532, the uid the nonroot variants run as.
  EXPECT_EQ(nonroot->uid, 65532U);
  EXPECT_EQ(nonroot->gid, 65532U);
  EXPECT_EQ(nonroot->home, "/home/nonroot");
  for (const auto& u : accounts.users) {
    EXPECT_EQ(u.shell, "/sbin/nologin") << u.name;  // no shell in a distroless image
  }

  std::vector<std::pair<std::string, uint32_t>> groups;
  for (const auto& g : accounts.groups) {
    groups.emplace_back(g.name, g.gid);
    EXPECT_TRUE(g.members.empty()) << g.name;
  }
  EXPECT_EQ(groups,
            (std::vector<std::pair<std::string, uint32_t>>{
                {"root", 0}, {"nobody", 65534}, {"tty", 5}, {"staff", 50}, {"nonroot", 65532}}));
}

TEST(GeneratedFiles, RenderPasswdAndGroupOfTheDefaults) {
  Accounts accounts = default_accounts();
  EXPECT_EQ(render_passwd(accounts),
            "root:x:0:0:root:/root:/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
            "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
  EXPECT_EQ(render_group(accounts),
            "root:x:0:\n"
            "nobody:x:65534:\n"
            "tty:x:5:\n"
            "staff:x:50:\n"
            "nonroot:x:65532:\n");
}

TEST(GeneratedFiles, RenderGroupJoinsMembersWithCommas) {
  Accounts accounts;
  accounts.groups = {{"audio", 29, {"app"}}, {"web", 1000, {"app", "nginx", "www-data"}}};
  EXPECT_EQ(render_group(accounts), "audio:x:29:app\nweb:x:1000:app,nginx,www-data\n");
  EXPECT_EQ(render_passwd(accounts), "");
}

TEST(GeneratedFiles, MergeAccountsAddsNewAndReplacesByName) {
  Accounts base = default_accounts();
  std::vector<Account> users = {
      {"app", 1000, 1000, "/home/app", "/sbin/nologin"},
      {"nonroot", 4242, 4243, "/srv", "/bin/false"},  // replaces the default
  };
  std::vector<Group> groups = {{"app", 1000, {}}, {"staff", 51, {"app"}}};
  Accounts merged = merge_accounts(base, users, groups);

  // Order kept: replaced entries stay in place, new ones are appended.
  std::vector<std::string> user_names;
  for (const auto& u : merged.users) {
    user_names.push_back(u.name);
  }
  EXPECT_EQ(user_names, (std::vector<std::string>{"root", "nobody", "nonroot", "app"}));
  const Account* nonroot = find_user(merged, "nonroot");
  ASSERT_NE(nonroot, nullptr);
  EXPECT_EQ(nonroot->uid, 4242U);
  EXPECT_EQ(nonroot->gid, 4243U);
  EXPECT_EQ(nonroot->home, "/srv");
  EXPECT_EQ(nonroot->shell, "/bin/false");

  std::vector<std::string> group_names;
  for (const auto& g : merged.groups) {
    group_names.push_back(g.name);
  }
  EXPECT_EQ(group_names,
            (std::vector<std::string>{"root", "nobody", "tty", "staff", "nonroot", "app"}));
  const Group* staff = find_group(merged, "staff");
  ASSERT_NE(staff, nullptr);
  EXPECT_EQ(staff->gid, 51U);
  EXPECT_EQ(staff->members, std::vector<std::string>{"app"});

  EXPECT_EQ(render_passwd(merged),
            "root:x:0:0:root:/root:/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
            "nonroot:x:4242:4243:nonroot:/srv:/bin/false\n"
            "app:x:1000:1000:app:/home/app:/sbin/nologin\n");
  EXPECT_EQ(
      render_group(merged),
      "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:51:app\nnonroot:x:65532:\napp:x:1000:\n");
}

TEST(GeneratedFiles, MergeAccountsWithNothingKeepsTheBase) {
  Accounts merged = merge_accounts(default_accounts(), {}, {});
  EXPECT_EQ(render_passwd(merged), render_passwd(default_accounts()));
  EXPECT_EQ(render_group(merged), render_group(default_accounts()));
}

TEST(GeneratedFiles, OsReleaseForBookworm) {
  EXPECT_EQ(render_os_release("bookworm"),
            "PRETTY_NAME=\"Distill (Debian GNU/Linux 12 (bookworm))\"\n"
            "NAME=\"Debian GNU/Linux\"\n"
            "VERSION_ID=\"12\"\n"
            "VERSION=\"Debian GNU/Linux 12 (bookworm)\"\n"
            "VERSION_CODENAME=bookworm\n"
            "ID=\"debian\"\n"
            "HOME_URL=\"https://www.debian.org/\"\n"
            "SUPPORT_URL=\"https://www.debian.org/support\"\n"
            "BUG_REPORT_URL=\"https://bugs.debian.org/\"\n");
}

TEST(GeneratedFiles, OsReleaseForTrixie) {
  std::string text = render_os_release("trixie");
  EXPECT_NE(text.find("VERSION_ID=\"13\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("VERSION=\"Debian GNU/Linux 13 (trixie)\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("VERSION_CODENAME=trixie\n"), std::string::npos) << text;
  EXPECT_NE(text.find("PRETTY_NAME=\"Distill (Debian GNU/Linux 13 (trixie))\"\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("12"), std::string::npos) << text;
}

TEST(GeneratedFiles, OsReleaseForAnUnknownCodenameHasNoVersionId) {
  std::string text = render_os_release("sid");
  EXPECT_EQ(text.find("VERSION_ID="), std::string::npos) << text;
  EXPECT_NE(text.find("VERSION=\"Debian GNU/Linux sid\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("VERSION_CODENAME=sid\n"), std::string::npos) << text;
}

TEST(GeneratedFiles, NsswitchUsesFilesAndDns) {
  std::string text = render_nsswitch();
  EXPECT_NE(text.find("passwd:         compat\n"), std::string::npos);
  EXPECT_NE(text.find("hosts:          files dns\n"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST(GeneratedFiles, BaseFilesPathsAreTheSkeletonSorted) {
  auto entries = base_files(default_accounts(), "bookworm", k_epoch);
  EXPECT_EQ(paths_of(entries),
            (std::vector<std::string>{"etc", "etc/group", "etc/nsswitch.conf", "etc/os-release",
                                      "etc/passwd", "home", "home/nonroot", "root", "tmp", "usr",
                                      "usr/lib", "usr/lib/os-release"}));
  // No "nonexistent" home for nobody.
  for (const auto& e : entries) {
    EXPECT_EQ(e.entry.path.find("nonexistent"), std::string::npos);
  }
}

TEST(GeneratedFiles, BaseFilesModesOwnersAndContent) {
  auto entries = by_path(base_files(default_accounts(), "trixie", k_epoch));

  auto expect_dir = [&](const std::string& path, uint32_t mode, uint32_t uid, uint32_t gid) {
    SCOPED_TRACE(path);
    ASSERT_EQ(entries.count(path), 1U);
    const auto& e = entries.at(path).entry;
    EXPECT_EQ(e.type, EntryType::Directory);
    EXPECT_EQ(e.mode, mode);
    EXPECT_EQ(e.uid, uid);
    EXPECT_EQ(e.gid, gid);
  };
  expect_dir("tmp", 01777, 0, 0);  // world-writable, sticky
  expect_dir("root", 0700, 0, 0);
  expect_dir("home", 0755, 0, 0);
  expect_dir("home/nonroot", 0700, 65532, 65532);  // owned by nonroot
  expect_dir("etc", 0755, 0, 0);
  expect_dir("usr", 0755, 0, 0);
  expect_dir("usr/lib", 0755, 0, 0);

  auto expect_file = [&](const std::string& path, const std::string& content) {
    SCOPED_TRACE(path);
    ASSERT_EQ(entries.count(path), 1U);
    const auto& g = entries.at(path);
    EXPECT_EQ(g.entry.type, EntryType::File);
    EXPECT_EQ(g.entry.mode, 0644U);
    EXPECT_EQ(g.entry.uid, 0U);
    EXPECT_EQ(g.entry.gid, 0U);
    EXPECT_EQ(g.content, content);
    EXPECT_EQ(g.entry.size, content.size());
    EXPECT_TRUE(g.source.empty());
  };
  expect_file("etc/passwd", render_passwd(default_accounts()));
  expect_file("etc/group", render_group(default_accounts()));
  expect_file("etc/nsswitch.conf", render_nsswitch());
  expect_file("usr/lib/os-release", render_os_release("trixie"));
  EXPECT_NE(entries.at("usr/lib/os-release").content.find("VERSION_ID=\"13\""), std::string::npos);

  const auto& link = entries.at("etc/os-release").entry;
  EXPECT_EQ(link.type, EntryType::Symlink);
  EXPECT_EQ(link.link_target, "../usr/lib/os-release");
  EXPECT_EQ(link.mode, 0777U);
}

TEST(GeneratedFiles, EveryMtimeIsTheEpoch) {
  for (int64_t epoch : {int64_t{0}, k_epoch}) {
    for (const auto& e : base_files(default_accounts(), "bookworm", epoch)) {
      EXPECT_EQ(e.entry.mtime, epoch) << e.entry.path;
    }
  }
}

TEST(GeneratedFiles, BaseFilesAreDeterministic) {
  auto a = base_files(default_accounts(), "bookworm", k_epoch);
  auto b = base_files(default_accounts(), "bookworm", k_epoch);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].entry.path, b[i].entry.path);
    EXPECT_EQ(a[i].entry.mode, b[i].entry.mode);
    EXPECT_EQ(a[i].content, b[i].content);
  }
}

TEST(GeneratedFiles, AccountFilesHoldOnlyAccountsAndHomes) {
  Accounts accounts =
      merge_accounts(default_accounts(), {{"svc", 900, 901, "/var/lib/svc", "/sbin/nologin"}}, {});
  auto entries = account_files(accounts, k_epoch);
  EXPECT_EQ(paths_of(entries),
            (std::vector<std::string>{"etc", "etc/group", "etc/passwd", "home", "home/nonroot",
                                      "root", "var", "var/lib", "var/lib/svc"}));
  auto map = by_path(entries);
  EXPECT_EQ(map.at("var/lib/svc").entry.mode, 0700U);
  EXPECT_EQ(map.at("var/lib/svc").entry.uid, 900U);
  EXPECT_EQ(map.at("var/lib/svc").entry.gid, 901U);
  // Parents made on the way are plain root directories.
  EXPECT_EQ(map.at("var/lib").entry.mode, 0755U);
  EXPECT_EQ(map.at("var/lib").entry.uid, 0U);
  EXPECT_EQ(map.at("etc/passwd").content, render_passwd(accounts));
}

TEST(GeneratedFiles, HomesThatAreNotDirectoriesToMakeAreSkipped) {
  Accounts accounts;
  accounts.users = {{"a", 1, 1, "", "/sbin/nologin"},
                    {"b", 2, 2, "/", "/sbin/nologin"},
                    {"c", 3, 3, "/nonexistent", "/sbin/nologin"}};
  EXPECT_EQ(paths_of(account_files(accounts, 0)),
            (std::vector<std::string>{"etc", "etc/group", "etc/passwd"}));
}

TEST(GeneratedFiles, TwoUsersSharingAHomeGiveOneDirectoryOwnedByTheFirst) {
  Accounts accounts;
  accounts.users = {{"a", 1000, 1000, "/srv/app", "/sbin/nologin"},
                    {"b", 1001, 1001, "/srv/app", "/sbin/nologin"}};
  auto map = by_path(account_files(accounts, 0));
  ASSERT_EQ(map.count("srv/app"), 1U);
  EXPECT_EQ(map.at("srv/app").entry.uid, 1000U);
}

TEST(GeneratedFiles, HomesAreNormalisedBeforeBecomingEntries) {
  // Spec validation only asks for an absolute home; "/srv/app/" must not give
  // both "srv/app/" and "srv/app", and "//" (the root) must not throw.
  Accounts accounts;
  accounts.users = {{"a", 1000, 1000, "/srv/app/", "/sbin/nologin"},
                    {"b", 1001, 1001, "//", "/sbin/nologin"},
                    {"c", 1002, 1002, "/opt//c/./data", "/sbin/nologin"}};
  std::vector<GeneratedEntry> entries;
  ASSERT_NO_THROW(entries = account_files(accounts, 0));
  EXPECT_EQ(paths_of(entries), (std::vector<std::string>{"etc", "etc/group", "etc/passwd", "opt",
                                                         "opt/c", "opt/c/data", "srv", "srv/app"}));
  auto map = by_path(entries);
  EXPECT_EQ(map.at("srv/app").entry.uid, 1000U);
  EXPECT_EQ(map.at("srv/app").entry.mode, 0700U);
  EXPECT_EQ(map.at("opt/c/data").entry.uid, 1002U);
}

TEST(GeneratedFiles, AHomeUnderHomeDoesNotDuplicateHome) {
  // account_files adds "home" as a parent of /home/nonroot; base_files adds it
  // again: one entry must remain.
  auto entries = base_files(default_accounts(), "bookworm", 0);
  EXPECT_EQ(std::count_if(entries.begin(), entries.end(),
                          [](const GeneratedEntry& e) { return e.entry.path == "home"; }),
            1);
}

TEST(GeneratedFiles, MakeHelpersFillTheEntry) {
  GeneratedEntry dir = make_directory("opt/app", 0750, 5, 10, 20);
  EXPECT_EQ(dir.entry.type, EntryType::Directory);
  EXPECT_EQ(dir.entry.mode, 0750U);
  EXPECT_EQ(dir.entry.uid, 10U);
  EXPECT_EQ(dir.entry.gid, 20U);
  EXPECT_EQ(dir.entry.mtime, 5);

  GeneratedEntry file = make_file("opt/app/config", "key=value\n", 0600, 6, 7, 8);
  EXPECT_EQ(file.entry.type, EntryType::File);
  EXPECT_EQ(file.entry.size, 10U);
  EXPECT_EQ(file.content, "key=value\n");
  EXPECT_EQ(file.entry.mode, 0600U);
  EXPECT_EQ(file.entry.uid, 7U);
  EXPECT_EQ(file.entry.gid, 8U);
  EXPECT_EQ(file.entry.mtime, 6);

  GeneratedEntry link = make_symlink("usr/bin/app", "../../opt/app/bin", 9);
  EXPECT_EQ(link.entry.type, EntryType::Symlink);
  EXPECT_EQ(link.entry.link_target, "../../opt/app/bin");
  EXPECT_EQ(link.entry.uid, 0U);
  EXPECT_EQ(link.entry.mtime, 9);
}

TEST(GeneratedFiles, CompleteAndSortAddsMissingParentsAndSorts) {
  std::vector<GeneratedEntry> entries;
  entries.push_back(make_file("usr/share/doc/app/README", "hi", 0644, 3));
  entries.push_back(make_directory("usr", 0700, 3, 5, 5));  // present: kept as given
  entries.push_back(make_symlink("bin", "usr/bin", 3));
  entries.push_back(make_file("app", "x", 0755, 3));
  complete_and_sort(entries, 42);

  EXPECT_EQ(paths_of(entries),
            (std::vector<std::string>{"app", "bin", "usr", "usr/share", "usr/share/doc",
                                      "usr/share/doc/app", "usr/share/doc/app/README"}));
  auto map = by_path(entries);
  EXPECT_EQ(map.at("usr").entry.mode, 0700U);  // not replaced by a made-up parent
  EXPECT_EQ(map.at("usr").entry.uid, 5U);
  EXPECT_EQ(map.at("usr").entry.mtime, 3);
  for (const char* added : {"usr/share", "usr/share/doc", "usr/share/doc/app"}) {
    SCOPED_TRACE(added);
    const auto& e = map.at(added).entry;
    EXPECT_EQ(e.type, EntryType::Directory);
    EXPECT_EQ(e.mode, 0755U);
    EXPECT_EQ(e.uid, 0U);
    EXPECT_EQ(e.gid, 0U);
    EXPECT_EQ(e.mtime, 42);  // the epoch given to complete_and_sort
  }
}

TEST(GeneratedFiles, CompleteAndSortOnSortedCompleteInputChangesNothing) {
  std::vector<GeneratedEntry> entries;
  entries.push_back(make_directory("a", 0755, 0));
  entries.push_back(make_directory("a/b", 0755, 0));
  entries.push_back(make_file("a/b/c", "", 0644, 0));
  entries.push_back(make_file("a/d", "", 0644, 0));
  complete_and_sort(entries, 0);
  EXPECT_EQ(paths_of(entries), (std::vector<std::string>{"a", "a/b", "a/b/c", "a/d"}));

  std::vector<GeneratedEntry> empty;
  complete_and_sort(empty, 0);
  EXPECT_TRUE(empty.empty());
}

// Accounts read from anywhere but a spec (an image's provenance, for
// `distill update`) are checked before they become /etc/passwd lines.
TEST(GeneratedFiles, AccountsThatWouldCorruptPasswdAreNamed) {
  EXPECT_EQ(accounts_problem(default_accounts().users, default_accounts().groups), "");
  EXPECT_EQ(accounts_problem({{"a", 1, 1, "/h", "/bin/sh\nevil::0:0::/:/bin/sh"}}, {}),
            "user 'a': home and shell must not contain ':' or control characters");
  EXPECT_EQ(accounts_problem({{"a", 1, 1, "/h:x", "/bin/sh"}}, {}),
            "user 'a': home and shell must not contain ':' or control characters");
  EXPECT_EQ(accounts_problem({{"a:0", 1, 1, "/h", "/bin/sh"}}, {}), "user name 'a:0' is not valid");
  EXPECT_EQ(accounts_problem({}, {{"g", 1, {"a,b"}}}),
            "member 'a,b' of group 'g' is not a valid user name");
  EXPECT_TRUE(valid_account_name("host$"));
  EXPECT_FALSE(valid_account_name("a$b"));
  EXPECT_FALSE(valid_account_name("1a"));
  EXPECT_FALSE(valid_account_name(std::string(33, 'a')));
}

}  // namespace
}  // namespace distill::image
