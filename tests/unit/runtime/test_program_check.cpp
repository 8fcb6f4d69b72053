// The program a container would start, looked up in its root before the
// runtime is called: one line and docker's status for what is not there.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "../elf/elf_builder.hpp"
#include "runtime/program_check.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::runtime {
namespace {

namespace fs = std::filesystem;

class ProgramCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-program-check-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    m_dir.emplace(std::move(*dir));
    m_root = m_dir->path() / "rootfs";
    fs::create_directories(m_root);
  }

  void file(const std::string& path, const std::string& content, mode_t mode = 0755) {
    const fs::path host = m_root / path.substr(1);
    fs::create_directories(host.parent_path());
    ASSERT_TRUE(util::write_file_atomic(host, content).ok());
    ASSERT_EQ(::chmod(host.c_str(), mode), 0);
  }

  void link(const std::string& path, const std::string& target) {
    const fs::path host = m_root / path.substr(1);
    fs::create_directories(host.parent_path());
    fs::create_symlink(target, host);
  }

  Status check(std::vector<std::string> args, std::vector<std::string> env = {},
               std::string cwd = "/") {
    RunOptions options;
    options.args = std::move(args);
    options.env = std::move(env);
    options.cwd = std::move(cwd);
    return check_program(m_root, options, "oci:out/app:latest");
  }

  static std::string dynamic_elf(const std::string& interpreter) {
    elf::testing::ElfSpec spec;
    spec.interpreter = interpreter;
    spec.needed = {"libc.so.6"};
    return elf::testing::build_elf(spec);
  }

  std::optional<util::TempDir> m_dir;
  fs::path m_root;
};

TEST_F(ProgramCheck, AMissingPathIsOneLineNamingImageAndProgramWith127) {
  Status status = check({"/app/server", "--port", "80"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "oci:out/app:latest: cannot run \"/app/server\": no such file in the image");
  EXPECT_EQ(status.error().exit_status, 127);
}

TEST_F(ProgramCheck, ADirectoryOrAFileWithoutAnExecuteBitGives126) {
  fs::create_directories(m_root / "app");
  file("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n", 0644);
  Status dir = check({"/app"});
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().message, "oci:out/app:latest: cannot run \"/app\": a directory");
  EXPECT_EQ(dir.error().exit_status, 126);
  Status plain = check({"/etc/passwd"});
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().message,
            "oci:out/app:latest: cannot run \"/etc/passwd\": not executable (mode 0644)");
  EXPECT_EQ(plain.error().exit_status, 126);
}

TEST_F(ProgramCheck, LinksAreFollowedInsideTheRootNeverOnTheHost) {
  file("/usr/bin/app",
       "\x7f"
       "ELF-not-really",
       0755);
  link("/bin", "usr/bin");
  link("/app", "/bin/app");
  EXPECT_TRUE(check({"/app"}).ok());
  EXPECT_TRUE(check({"/bin/app"}).ok());
  // "../../.." stops at the root: this is the image's /etc/passwd, which it
  // has not, whatever the host has.
  link("/escape", "../../../../../../etc/passwd");
  Status escape = check({"/escape"});
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().exit_status, 127);
}

TEST_F(ProgramCheck, ARelativePathIsFromTheWorkingDirectory) {
  file("/opt/tool/run", "#!/opt/tool/run-helper\n", 0755);
  file("/opt/tool/run-helper", "x", 0755);
  EXPECT_TRUE(check({"./run"}, {}, "/opt/tool").ok());
  EXPECT_FALSE(check({"./run"}, {}, "/").ok());
}

TEST_F(ProgramCheck, ANameIsLookedUpInThePathAsRuncDoes) {
  file("/usr/bin/tool", "x", 0644);        // not executable: skipped, as exec.LookPath does
  file("/usr/local/bin/tool", "x", 0755);  // found later on the PATH
  EXPECT_TRUE(check({"tool"}, {"PATH=/usr/bin:/usr/local/bin"}).ok());
  Status missing = check({"other"}, {"PATH=/usr/bin:/usr/local/bin"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "oci:out/app:latest: cannot run \"other\": no executable of that name in the "
            "image's PATH (/usr/bin:/usr/local/bin)");
  EXPECT_EQ(missing.error().exit_status, 127);
  // Without PATH in the environment, the one the container gets (docker's).
  Status defaulted = check({"tool2"});
  ASSERT_FALSE(defaulted.ok());
  EXPECT_NE(defaulted.error().message.find("(" + std::string(k_default_path) + ")"),
            std::string::npos)
      << defaulted.error().message;
}

TEST_F(ProgramCheck, ADynamicProgramWhoseInterpreterIsMissingIsNamed) {
  file("/app/server", dynamic_elf("/lib64/ld-linux-x86-64.so.2"));
  Status status = check({"/app/server"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "oci:out/app:latest: cannot run \"/app/server\": its ELF interpreter "
            "/lib64/ld-linux-x86-64.so.2 is not in the image (the program is linked "
            "dynamically, against a C library the image does not have)");
  EXPECT_EQ(status.error().exit_status, 127);
  // Debian's layout: /lib64 a link into /usr.
  file("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "x", 0755);
  link("/usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  link("/lib64", "usr/lib64");
  EXPECT_TRUE(check({"/app/server"}).ok());
  // A static program has no interpreter to look for.
  elf::testing::ElfSpec spec;
  spec.dynamic = false;
  file("/app/static", elf::testing::build_elf(spec));
  EXPECT_TRUE(check({"/app/static"}).ok());
}

TEST_F(ProgramCheck, AScriptWhoseInterpreterIsMissingIsNamed) {
  file("/app/start", "#!  /bin/sh -e\nexec /app/server\n");
  Status status = check({"/app/start"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "oci:out/app:latest: cannot run \"/app/start\": its interpreter /bin/sh (the "
            "script's #! line) is not in the image");
  EXPECT_EQ(status.error().exit_status, 127);
  file("/bin/sh", "x", 0755);
  EXPECT_TRUE(check({"/app/start"}).ok());
  file("/app/env-script", "#!/usr/bin/env python3\n");
  Status env = check({"/app/env-script"});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message.find("its interpreter /usr/bin/env "), std::string::npos);
}

TEST_F(ProgramCheck, WhatTheRootCannotTellIsLeftToTheRuntime) {
  // Mounted by the runtime, not in the unpacked root.
  EXPECT_TRUE(check({"/proc/self/exe"}).ok());
  link("/null", "/dev/null");
  EXPECT_TRUE(check({"/null"}).ok());
  // A link loop: the runtime reports ELOOP itself.
  link("/loop", "/loop");
  EXPECT_TRUE(check({"/loop"}).ok());
  // PATH entries that are relative, or empty (the working directory).
  EXPECT_TRUE(check({"tool"}, {"PATH=bin:/usr/bin"}).ok());
  EXPECT_TRUE(check({"tool"}, {"PATH=/usr/bin::/bin"}).ok());
  // A script whose interpreter is relative.
  file("/app/rel", "#!sh\n");
  EXPECT_TRUE(check({"/app/rel"}).ok());
  // No argv: run_image's own error.
  EXPECT_TRUE(check({}).ok());
}

}  // namespace
}  // namespace distill::runtime
