// audit_image: a clean distroless-like image passes; adding a shell, a setuid file,
// a world-writable file, a package manager, an escaping symlink or an unknown user
// reports exactly those; ELF files with missing libraries are found; a debug
// variant's busybox is expected, not a finding.
#include <gtest/gtest.h>

#include <set>

#include "check/audit.hpp"
#include "elf/elf_reader.hpp"
#include "test_image.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

// The host's /usr/bin/true, when it is a dynamically linked program (an
// interpreter and libraries); why not otherwise.
struct HostProgram {
  std::string bytes;
  elf::ElfInfo info;
};
Result<HostProgram> host_true() {
  DISTILL_TRY(std::string bytes, util::read_file("/usr/bin/true"));
  DISTILL_TRY(elf::ElfInfo info, elf::parse_elf(bytes, "/usr/bin/true"));
  if (info.interpreter.empty() || info.needed.empty()) {
    return make_error(ErrorKind::NotFound, "/usr/bin/true is static");
  }
  return HostProgram{std::move(bytes), std::move(info)};
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override { m_dir = std::make_unique<util::TempDir>(*util::TempDir::create()); }

  AuditReport audit(std::vector<Entry> extra, oci::ImageConfig config = base_config()) {
    return audit_stack(extra.empty() ? std::vector<std::vector<Entry>>{}
                                     : std::vector<std::vector<Entry>>{std::move(extra)},
                       std::move(config));
  }

  // base_layer() and then `layers`, bottom first.
  AuditReport audit_stack(const std::vector<std::vector<Entry>>& layers,
                          oci::ImageConfig config = base_config()) {
    std::vector<fs::path> files;
    fs::path base = m_dir->path() / ("base" + std::to_string(m_count) + ".tar.gz");
    write_layer(base, base_layer());
    files.push_back(base);
    for (size_t i = 0; i < layers.size(); ++i) {
      fs::path top =
          m_dir->path() / ("top" + std::to_string(m_count) + "-" + std::to_string(i) + ".tar.gz");
      write_layer(top, layers[i]);
      files.push_back(top);
    }
    ++m_count;
    auto report = audit_layers(files, config, "test");
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().message);
    return *report;
  }

  static std::vector<std::string> lines(const AuditReport& report) {
    std::vector<std::string> out;
    for (const auto& finding : report.findings) {
      out.push_back(finding.check + " " + finding.path);
    }
    return out;
  }

  std::unique_ptr<util::TempDir> m_dir;
  int m_count = 0;
};

TEST_F(AuditTest, CleanImagePasses) {
  AuditReport report = audit({});
  EXPECT_TRUE(report.passed()) << format_finding(report.findings.front());
  EXPECT_TRUE(report.expected.empty());
}

TEST_F(AuditTest, ReportsExactlyTheAddedShellSetuidAndWorldWritableFiles) {
  AuditReport report = audit({dir("bin"), file("bin/sh", "#!", 0755), dir("usr/bin"),
                              file("usr/bin/su", "x", 04755), file("etc/app.conf", "x", 0666)});
  EXPECT_EQ(lines(report), (std::vector<std::string>{"setuid /usr/bin/su", "shell /bin/sh",
                                                     "world-writable /etc/app.conf"}));
  for (const auto& finding : report.findings) {
    EXPECT_FALSE(format_finding(finding).empty());
    EXPECT_EQ(format_finding(finding).find('\n'), std::string::npos);
  }
  EXPECT_NE(report.findings[0].message.find("4755"), std::string::npos);
}

TEST_F(AuditTest, ShellSymlinksBashAndBusyboxOutsideBusyboxDir) {
  AuditReport report =
      audit({dir("bin"), symlink("bin/sh", "dash"), file("bin/dash", "x", 0755), dir("usr/bin"),
             file("usr/bin/bash", "x", 0755), file("usr/bin/busybox", "x", 0755)});
  EXPECT_EQ(lines(report),
            (std::vector<std::string>{"shell /bin/dash", "shell /bin/sh", "shell /usr/bin/bash",
                                      "shell /usr/bin/busybox"}));
}

TEST_F(AuditTest, DebugVariantBusyboxIsExpected) {
  oci::ImageConfig config = base_config();
  config.env[0] += ":/busybox";
  config.entrypoint = std::vector<std::string>{"/busybox/sh"};
  AuditReport report =
      audit({dir("busybox"), file("busybox/busybox", "x", 0755), symlink("busybox/sh", "busybox")},
            config);
  EXPECT_TRUE(report.passed());
  ASSERT_EQ(report.expected.size(), 1U);
  EXPECT_EQ(report.expected[0].path, "/busybox/busybox");
}

TEST_F(AuditTest, PackageManagers) {
  AuditReport report =
      audit({dir("usr/bin"), file("usr/bin/dpkg", "x", 0755), file("usr/bin/apt-get", "x", 0755),
             dir("usr/share/doc/dpkg"), file("usr/share/doc/dpkg/dpkg", "doc")});
  EXPECT_EQ(lines(report), (std::vector<std::string>{"package-manager /usr/bin/apt-get",
                                                     "package-manager /usr/bin/dpkg"}));
}

TEST_F(AuditTest, StickyDirectoriesAreAllowedButOpenDirectoriesAreNot) {
  AuditReport report =
      audit({dir("var/tmp", 01777), dir("srv", 0777), symlink("etc/link", "passwd")});
  EXPECT_EQ(lines(report), (std::vector<std::string>{"world-writable /srv"}));
}

TEST_F(AuditTest, SymlinksEscapingTheRoot) {
  AuditReport report =
      audit({dir("usr/lib"), symlink("usr/lib/up", "../../../etc"),
             symlink("usr/lib/ok", "../../etc/passwd"), symlink("usr/lib/abs-ok", "/etc/passwd"),
             symlink("usr/lib/abs-missing", "/opt/host/thing")});
  // Absolute targets resolve inside the image, even when dangling.
  EXPECT_EQ(lines(report), (std::vector<std::string>{"symlink /usr/lib/up"}));
}

TEST_F(AuditTest, ConfiguredUserMustExist) {
  oci::ImageConfig config = base_config();
  config.user = "1234";
  EXPECT_EQ(lines(audit({}, config)), (std::vector<std::string>{"user /etc/passwd"}));
  config.user = "nonroot:nonroot";
  EXPECT_TRUE(audit({}, config).passed());
  config.user = "nonroot:nogroup";
  EXPECT_EQ(lines(audit({}, config)), (std::vector<std::string>{"user /etc/group"}));
  config.user = "";
  EXPECT_TRUE(audit({}, config).passed());
  config.user = "ghost";
  AuditReport report = audit({}, config);
  ASSERT_EQ(report.findings.size(), 1U);
  EXPECT_NE(report.findings[0].message.find("ghost"), std::string::npos);
}

// A dynamically linked host program without its libraries, then with them.
TEST_F(AuditTest, ElfNeededLibrariesMustBePresent) {
  auto dynamic = host_true();
  if (!dynamic.ok()) {
    GTEST_SKIP() << dynamic.error().message;
  }
  const std::string* program = &dynamic->bytes;
  const elf::ElfInfo* info = &dynamic->info;
  AuditReport missing = audit({dir("usr/bin"), file("usr/bin/true", *program, 0755)});
  ASSERT_FALSE(missing.passed());
  bool libc_reported = false;
  bool interp_reported = false;
  for (const auto& finding : missing.findings) {
    EXPECT_EQ(finding.check, "elf");
    EXPECT_EQ(finding.path, "/usr/bin/true");
    libc_reported |= finding.message.find(info->needed[0]) != std::string::npos;
    interp_reported |= finding.message.find(info->interpreter) != std::string::npos;
  }
  EXPECT_TRUE(libc_reported);
  EXPECT_TRUE(interp_reported);

  // Add the libraries (and the interpreter) from the host, at the host's paths.
  std::string triplet = elf::multiarch_triplet(*info);
  std::vector<Entry> layer{dir("usr/bin"), file("usr/bin/true", *program, 0755)};
  std::vector<std::string> wanted = info->needed;
  for (const auto& name : wanted) {
    fs::path host = fs::path("/lib") / triplet / name;
    auto bytes = util::read_file(fs::canonical(host));
    if (!bytes.ok()) {
      GTEST_SKIP() << "no " << host;
    }
    layer.push_back(file("lib/" + triplet + "/" + name, *bytes, 0755));
    auto lib_info = elf::parse_elf(*bytes, host.string());
    ASSERT_TRUE(lib_info.ok());
    for (const auto& needed : lib_info->needed) {
      if (std::find(wanted.begin(), wanted.end(), needed) == wanted.end() &&
          needed.find("ld-linux") == std::string::npos) {
        GTEST_SKIP() << "library closure deeper than this test handles: " << needed;
      }
    }
  }
  auto interp = util::read_file(fs::canonical(info->interpreter));
  ASSERT_TRUE(interp.ok());
  std::string interp_path = info->interpreter.substr(1);
  std::string interp_name = interp_path.substr(interp_path.rfind('/') + 1);
  layer.push_back(file("lib/" + triplet + "/" + interp_name, *interp, 0755));
  if (interp_path != "lib/" + triplet + "/" + interp_name) {
    layer.push_back(symlink(interp_path, "/lib/" + triplet + "/" + interp_name));
  }
  AuditReport complete = audit(layer);
  EXPECT_TRUE(complete.passed()) << format_finding(complete.findings.front());
}

// The ELF objects are found as the layers are read, each layer's on its own:
// only those the merged view still holds are checked, wherever they came from.
TEST_F(AuditTest, OnlyTheElfObjectsTheMergedViewHoldsAreChecked) {
  auto dynamic = host_true();
  if (!dynamic.ok()) {
    GTEST_SKIP() << dynamic.error().message;
  }
  const std::string* program = &dynamic->bytes;
  const Entry elf_true = file("usr/bin/true", *program, 0755);
  const Entry text_true = file("usr/bin/true", "#!/bin/false\n" + std::string(64, '#'), 0755);
  auto elf_paths = [](const AuditReport& report) {
    std::set<std::string> paths;
    for (const auto& finding : report.findings) {
      if (finding.check == "elf") {
        paths.insert(finding.path);
      }
    }
    return paths;
  };
  const std::set<std::string> k_true = {"/usr/bin/true"};
  // Replaced by a script, deleted by a whiteout, hidden by an opaque directory.
  EXPECT_TRUE(elf_paths(audit_stack({{dir("usr/bin"), elf_true}, {text_true}})).empty());
  EXPECT_TRUE(
      elf_paths(audit_stack({{dir("usr/bin"), elf_true}, {file("usr/bin/.wh.true", "")}})).empty());
  EXPECT_TRUE(
      elf_paths(audit_stack({{dir("usr/bin"), elf_true}, {file("usr/bin/.wh..wh..opq", "")}}))
          .empty());
  // A script replaced by the program; the program kept under another name as
  // its first layer's copy is replaced.
  EXPECT_EQ(elf_paths(audit_stack({{dir("usr/bin"), text_true}, {elf_true}})), k_true);
  EXPECT_EQ(elf_paths(audit_stack(
                {{dir("usr/bin"), elf_true, file("usr/bin/false", *program, 0755)}, {text_true}})),
            std::set<std::string>{"/usr/bin/false"});
  // In one layer, the same program twice (the later entry is the one kept).
  EXPECT_TRUE(elf_paths(audit_stack({{dir("usr/bin"), elf_true, text_true}})).empty());
}

// A library no program needs (loaded by dlopen) with a missing dependency: a
// warning, not a finding.
TEST_F(AuditTest, DlopenOnlyLibrariesGiveWarnings) {
  auto dynamic = host_true();
  if (!dynamic.ok()) {
    GTEST_SKIP() << dynamic.error().message;
  }
  const elf::ElfInfo* info = &dynamic->info;
  // A host library that is not itself a program (glibc's libc.so.6 has a PT_INTERP).
  std::string triplet = elf::multiarch_triplet(*info);
  std::string library;
  for (const char* name : {"libm.so.6", "libz.so.1", "libcrypto.so.3", "libgcc_s.so.1"}) {
    auto bytes = util::read_file(fs::path("/lib") / triplet / name);
    if (!bytes.ok()) {
      continue;
    }
    auto lib_info = elf::parse_elf(*bytes, name);
    if (lib_info.ok() && lib_info->interpreter.empty() && !lib_info->needed.empty()) {
      library = std::move(*bytes);
      break;
    }
  }
  if (library.empty()) {
    GTEST_SKIP() << "no suitable host library";
  }
  AuditReport report =
      audit({dir("opt"), dir("opt/plugins"), file("opt/plugins/plugin.so", library)});
  EXPECT_TRUE(report.passed()) << format_finding(report.findings.front());
  ASSERT_FALSE(report.warnings.empty());
  EXPECT_EQ(report.warnings[0].path, "/opt/plugins/plugin.so");
  EXPECT_NE(report.warnings[0].message.find("dlopen"), std::string::npos);
}

}  // namespace
}  // namespace distill::check
