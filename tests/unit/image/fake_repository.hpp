// A signed apt repository made in memory for the build pipeline's tests:
// .debs built here byte for byte (ar, uncompressed control.tar and data.tar
// from the project's deterministic tar writer), a Packages index, a Release
// signed with a throwaway gpg key, all served by a fake HttpClient at
// k_repo_url. The same packages give the same .deb bytes on every run, so
// images built from them have digests a test can pin.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "../debian/fake_http.hpp"
#include "archive/byte_sink.hpp"
#include "archive/tar_writer.hpp"
#include "crypto/sha256.hpp"
#include "image/package_layer.hpp"
#include "net/http_client.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::image::testing {

inline constexpr const char* k_repo_url = "http://repo.test/debian";

struct FakeFile {
  std::string path;  // in the package, no leading '/'; a directory when it ends in '/'
  std::string content;
  uint32_t mode = 0644;
  std::string link;  // a symlink to this when set
};

struct FakePackage {
  std::string name;
  std::string version = "1.0";
  std::string arch = "amd64";
  std::string depends;
  std::vector<FakeFile> files;
};

// HTTP from a map of URL -> body (the debian layer tests' fake).
using MapHttp = debian::fakes::FakeHttp;

inline std::string ar_member(const std::string& name, const std::string& data) {
  char header[61];
  std::snprintf(header, sizeof header, "%-16s%-12d%-6d%-6d%-8s%-10zu`\n", name.c_str(), 0, 0, 0,
                "100644", data.size());
  std::string out(header, 60);
  out += data;
  if (data.size() % 2 == 1) {
    out += '\n';
  }
  return out;
}

inline std::string make_tar(const std::vector<FakeFile>& files) {
  std::string out;
  archive::StringSink sink(out);
  archive::TarWriter tar(sink);
  std::set<std::string> dirs;
  for (const auto& f : files) {
    // Parent directories first, as dpkg-deb writes them.
    std::string path = f.path;
    std::vector<std::string> parents;
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      parents.push_back(path.substr(0, slash));
    }
    for (const auto& d : parents) {
      if (dirs.insert(d).second) {
        archive::TarEntry e;
        e.path = d;
        e.type = archive::EntryType::Directory;
        e.mode = 0755;
        EXPECT_TRUE(tar.add(e, std::string_view()).ok());
      }
    }
    archive::TarEntry e;
    e.path = f.path;
    e.mode = f.mode;
    if (!path.empty() && path.back() == '/') {
      e.path.pop_back();
      e.type = archive::EntryType::Directory;
      if (dirs.insert(e.path).second) {
        EXPECT_TRUE(tar.add(e, std::string_view()).ok());
      }
    } else if (!f.link.empty()) {
      e.type = archive::EntryType::Symlink;
      e.link_target = f.link;
      EXPECT_TRUE(tar.add(e, std::string_view()).ok());
    } else {
      EXPECT_TRUE(tar.add(e, std::string_view(f.content)).ok());
    }
  }
  EXPECT_TRUE(tar.finish().ok());
  return out;
}

inline std::string control_text(const FakePackage& p, uint64_t installed_size = 1) {
  std::string text = "Package: " + p.name + "\nVersion: " + p.version +
                     "\nArchitecture: " + p.arch + "\nMaintainer: Test <test@test.invalid>\n";
  text += "Installed-Size: " + std::to_string(installed_size) + "\n";
  if (!p.depends.empty()) {
    text += "Depends: " + p.depends + "\n";
  }
  text += "Description: " + p.name + " for tests\n";
  return text;
}

inline std::string make_deb(const FakePackage& p) {
  std::string control = make_tar({{"control", control_text(p)}});
  std::string data = make_tar(p.files);
  return "!<arch>\n" + ar_member("debian-binary", "2.0\n") + ar_member("control.tar", control) +
         ar_member("data.tar", data);
}

// `bytes` (a .deb of `p`) written to `file`: the package as a build installs it.
inline InstalledPackage installed_deb(const FakePackage& p, const std::string& bytes,
                                      const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  EXPECT_TRUE(util::write_file_atomic(file, bytes).ok());
  InstalledPackage out;
  out.name = p.name;
  out.version = p.version;
  out.arch = p.arch;
  out.sha256 = crypto::sha256(bytes);
  out.size = bytes.size();
  out.deb_file = file;
  return out;
}

// The repository: suite `suite`, component main, one architecture.
class FakeRepository {
 public:
  FakeRepository() = default;
  FakeRepository(const FakeRepository&) = delete;
  FakeRepository& operator=(const FakeRepository&) = delete;
  // gpg made the key through a gpg-agent it started in the repository's own
  // home. That agent is stopped before the directory goes: left running, it
  // saw its home go and removed its sockets while remove_all was walking the
  // directory, which then stopped half way (two to five directories were left
  // in /tmp by each `ctest` run of these tests). `gpgconf --kill` may return
  // before the agent has taken its sockets, which still left one directory in
  // a CI run; TempDir's removal (util::remove_tree) now takes an entry that
  // vanishes under it as removed.
  ~FakeRepository() {
    if (m_dir) {
      util::Command command;
      command.argv = {"gpgconf", "--homedir", (m_dir->path() / "gnupg").string(), "--kill",
                      "gpg-agent"};
      (void)util::run_command(command);
    }
  }

  static bool available() {
    return !util::find_program("gpg").empty() && !util::find_program("gpgv").empty();
  }

  // Builds, signs and publishes `packages` into `http`; apt sources for it
  // land in `apt_root`/etc/apt/sources.list.d (for flavors, which take the
  // host's sources).
  void publish(MapHttp& http, const std::vector<FakePackage>& packages,
               const std::string& suite = "bookworm", const std::string& codename = "bookworm") {
    if (!m_dir) {
      auto dir = util::TempDir::create("distill-fake-repo-");
      ASSERT_TRUE(dir.ok());
      m_dir = std::make_unique<util::TempDir>(std::move(*dir));
      ASSERT_TRUE(gpg({"--quick-gen-key", "Repo <repo@test.invalid>", "ed25519", "sign", "never"}));
      ASSERT_TRUE(gpg({"--export", "--output", keyring().string(), "repo@test.invalid"}));
    }
    std::map<std::string, std::string> packages_by_arch;
    std::map<std::string, std::string> contents_by_arch;
    for (const auto& p : packages) {
      for (const char* arch : {"amd64", "arm64"}) {
        if (with_contents && (p.arch == arch || p.arch == "all")) {
          for (const auto& f : p.files) {
            contents_by_arch[arch] += f.path + "    misc/" + p.name + "\n";
          }
        }
      }
      std::string deb = make_deb(p);
      std::string filename = "pool/main/" + p.name + "_" + p.version + "_" + p.arch + ".deb";
      http.m_files[std::string(k_repo_url) + "/" + filename] = deb;
      std::string stanza = control_text(p);
      stanza.insert(stanza.find("Description:"),
                    "Filename: " + filename + "\nSize: " + std::to_string(deb.size()) +
                        "\nSHA256: " + crypto::sha256(deb).hex() + "\n");
      // Architecture: all packages are listed in every architecture's index.
      for (const char* arch : {"amd64", "arm64"}) {
        if (p.arch == arch || p.arch == "all") {
          packages_by_arch[arch] += stanza + "\n";
        }
      }
    }
    std::string release = "Origin: Test\nSuite: " + suite + "\nCodename: " + codename +
                          "\nDate: Sat, 01 Aug 2026 00:00:00 UTC\nArchitectures: amd64 arm64\n"
                          "Components: main\nSHA256:\n";
    std::string dists = std::string(k_repo_url) + "/dists/" + suite + "/";
    for (const auto& [arch, text] : packages_by_arch) {
      std::string path = "main/binary-" + arch + "/Packages";
      http.m_files[dists + path] = text;
      release +=
          " " + crypto::sha256(text).hex() + " " + std::to_string(text.size()) + " " + path + "\n";
    }
    for (auto& [arch, text] : contents_by_arch) {
      text += extra_contents;
      std::string path = "main/Contents-" + arch;
      http.m_files[dists + path] = text;
      release +=
          " " + crypto::sha256(text).hex() + " " + std::to_string(text.size()) + " " + path + "\n";
    }
    auto release_file = m_dir->path() / "Release";
    ASSERT_TRUE(util::write_file_atomic(release_file, release).ok());
    auto signed_file = m_dir->path() / "InRelease";
    std::filesystem::remove(signed_file);
    ASSERT_TRUE(gpg({"--local-user", "repo@test.invalid", "--clearsign", "-o", signed_file.string(),
                     release_file.string()}));
    auto inrelease = util::read_file(signed_file);
    ASSERT_TRUE(inrelease.ok());
    http.m_files[dists + "InRelease"] = *inrelease;
  }

  // Whether publish() writes a Contents-ARCH index of the packages' files (for
  // `trace:`), with `extra_contents` (lines "PATH  SECTION/PACKAGE") added;
  // off by default, so that the Release files other tests pin do not change.
  bool with_contents = false;
  std::string extra_contents;

  // An apt root whose sources name this repository for `suite`.
  std::filesystem::path apt_root(const std::string& suite = "bookworm") {
    auto root = m_dir->path() / ("root-" + suite);
    std::filesystem::create_directories(root / "etc/apt/sources.list.d");
    std::string sources = "Types: deb\nURIs: " + std::string(k_repo_url) + "\nSuites: " + suite +
                          "\nComponents: main\nSigned-By: " + keyring().string() + "\n";
    EXPECT_TRUE(
        util::write_file_atomic(root / "etc/apt/sources.list.d/test.sources", sources).ok());
    return root;
  }

  [[nodiscard]] std::filesystem::path keyring() const { return m_dir->path() / "repo.gpg"; }
  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir->path(); }

 private:
  bool gpg(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "gpg",          "--batch", "--quiet",   "--yes",
        "--passphrase", "",        "--homedir", (m_dir->path() / "gnupg").string()};
    std::filesystem::create_directories(m_dir->path() / "gnupg");
    std::filesystem::permissions(m_dir->path() / "gnupg", std::filesystem::perms::owner_all);
    argv.insert(argv.end(), args.begin(), args.end());
    util::Command command;
    command.argv = argv;
    auto result = util::run_command(command);
    EXPECT_TRUE(result.ok());
    if (!result.ok()) {
      return false;
    }
    EXPECT_EQ(result->exit_code, 0) << result->stderr_data;
    return result->exit_code == 0;
  }
  std::unique_ptr<util::TempDir> m_dir;
};

}  // namespace distill::image::testing
