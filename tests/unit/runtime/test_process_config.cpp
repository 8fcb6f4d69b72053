// Tests for argv/env composition, user resolution and the runtime config.json.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "runtime/bundle.hpp"
#include "runtime/process_args.hpp"
#include "runtime/run_image.hpp"
#include "runtime/user_spec.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::runtime {
namespace {

using Args = std::vector<std::string>;
using nlohmann::json;

TEST(ComputeArgs, EntrypointPlusCmd) {
  EXPECT_EQ(compute_args(Args{"/app"}, Args{"--port", "80"}, std::nullopt, {}),
            (Args{"/app", "--port", "80"}));
}

TEST(ComputeArgs, ExtraArgsReplaceCmd) {
  EXPECT_EQ(compute_args(Args{"/app"}, Args{"--port", "80"}, std::nullopt, {"-v"}),
            (Args{"/app", "-v"}));
}

TEST(ComputeArgs, CmdOnly) {
  EXPECT_EQ(compute_args(std::nullopt, Args{"/bin/x", "y"}, std::nullopt, {}),
            (Args{"/bin/x", "y"}));
  EXPECT_EQ(compute_args(std::nullopt, Args{"/bin/x"}, std::nullopt, {"/bin/z"}), (Args{"/bin/z"}));
}

TEST(ComputeArgs, EntrypointOverrideDropsCmd) {
  EXPECT_EQ(compute_args(Args{"/app"}, Args{"--port", "80"}, Args{"/busybox/sh"}, {}),
            (Args{"/busybox/sh"}));
  EXPECT_EQ(compute_args(Args{"/app"}, Args{"--port", "80"}, Args{"/busybox/sh"}, {"-c", "x"}),
            (Args{"/busybox/sh", "-c", "x"}));
  // An empty override clears the entrypoint: the extra args are the whole argv.
  EXPECT_EQ(compute_args(Args{"/app"}, Args{"a"}, Args{}, {"/bin/true"}), (Args{"/bin/true"}));
}

TEST(ComputeArgs, FromImageConfig) {
  oci::ImageConfig config;
  config.entrypoint = Args{"/e"};
  config.cmd = Args{"c"};
  EXPECT_EQ(compute_args(config, std::nullopt, {}), (Args{"/e", "c"}));
}

TEST(MergeEnv, OverridesReplaceInPlaceAndAppend) {
  Args image{"PATH=/bin", "A=1", "B=2"};
  EXPECT_EQ(merge_env(image, {"A=x", "C=3", "B="}), (Args{"PATH=/bin", "A=x", "B=", "C=3"}));
}

TEST(MergeEnv, BareNameCopiesFromHost) {
  ::setenv("DISTILL_TEST_VAR", "hostvalue", 1);
  ::unsetenv("DISTILL_TEST_UNSET");
  EXPECT_EQ(merge_env({"A=1"}, {"DISTILL_TEST_VAR", "DISTILL_TEST_UNSET"}),
            (Args{"A=1", "DISTILL_TEST_VAR=hostvalue"}));
}

constexpr const char* k_passwd =
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
    "broken line\n"
    "app:x:1000:1000::/home/app:/bin/false\n";
constexpr const char* k_group =
    "root:x:0:\n"
    "tty:x:5:\n"
    "staff:x:50:app,nonroot\n"
    "nonroot:x:65532:\n"
    "audio:x:29:app\n"
    "app:x:1000:\n";

TEST(ResolveUser, EmptyIsRoot) {
  auto user = resolve_user("", k_passwd, k_group);
  ASSERT_TRUE(user.ok()) << user.error().message;
  EXPECT_EQ(user->uid, 0u);
  EXPECT_EQ(user->gid, 0u);
  EXPECT_TRUE(user->additional_gids.empty());
}

TEST(ResolveUser, NameGivesUidGidAndSupplementaryGroups) {
  auto user = resolve_user("app", k_passwd, k_group);
  ASSERT_TRUE(user.ok()) << user.error().message;
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1000u);
  EXPECT_EQ(user->additional_gids, (std::vector<uint32_t>{29, 50}));
}

TEST(ResolveUser, NumericUidUsesPasswdGid) {
  auto user = resolve_user("65532", k_passwd, k_group);
  ASSERT_TRUE(user.ok()) << user.error().message;
  EXPECT_EQ(user->uid, 65532u);
  EXPECT_EQ(user->gid, 65532u);
  EXPECT_EQ(user->additional_gids, (std::vector<uint32_t>{50}));
}

TEST(ResolveUser, UnknownNumericUidIsAllowed) {
  auto user = resolve_user("4242", k_passwd, k_group);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->uid, 4242u);
  EXPECT_EQ(user->gid, 0u);
}

TEST(ResolveUser, ExplicitGroupByNumberAndName) {
  auto numeric = resolve_user("1000:7", k_passwd, k_group);
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->uid, 1000u);
  EXPECT_EQ(numeric->gid, 7u);
  auto named = resolve_user("nonroot:tty", k_passwd, k_group);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->uid, 65532u);
  EXPECT_EQ(named->gid, 5u);
}

TEST(ResolveUser, UnknownNamesAreErrors) {
  auto user = resolve_user("ghost", k_passwd, k_group);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().kind, ErrorKind::NotFound);
  EXPECT_NE(user.error().message.find("ghost"), std::string::npos);
  auto group = resolve_user("app:nogroup", k_passwd, k_group);
  ASSERT_FALSE(group.ok());
  EXPECT_NE(group.error().message.find("nogroup"), std::string::npos);
  // No /etc/passwd at all (a scratch image): names fail, numbers work.
  EXPECT_FALSE(resolve_user("app", "", "").ok());
  EXPECT_TRUE(resolve_user("65532:65532", "", "").ok());
}

class ConfigJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-rt-test-");
    ASSERT_TRUE(dir.ok());
    m_dir.emplace(std::move(*dir));
    m_rootfs = m_dir->path() / "rootfs";
    std::filesystem::create_directories(m_rootfs / "etc");
    ASSERT_TRUE(util::write_file_atomic(m_rootfs / "etc/passwd", k_passwd).ok());
    ASSERT_TRUE(util::write_file_atomic(m_rootfs / "etc/group", k_group).ok());
  }

  json config(const RunOptions& options) {
    auto text = runtime_config_json(options, m_rootfs);
    EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
    return text.ok() ? json::parse(*text) : json();
  }

  std::optional<util::TempDir> m_dir;
  std::filesystem::path m_rootfs;
};

bool has_namespace(const json& config, const std::string& type) {
  for (const auto& ns : config["linux"]["namespaces"]) {
    if (ns["type"] == type) {
      return true;
    }
  }
  return false;
}

TEST_F(ConfigJsonTest, ProcessFields) {
  RunOptions options;
  options.args = {"/app", "--x"};
  options.env = {"A=1"};
  options.user = "app";
  options.cwd = "/work";
  json c = config(options);
  EXPECT_EQ(c["ociVersion"], "1.0.2");
  EXPECT_EQ(c["process"]["terminal"], false);
  EXPECT_EQ(c["process"]["args"], json({"/app", "--x"}));
  EXPECT_EQ(c["process"]["cwd"], "/work");
  EXPECT_EQ(c["process"]["user"]["uid"], 1000);
  EXPECT_EQ(c["process"]["user"]["gid"], 1000);
  EXPECT_EQ(c["process"]["user"]["additionalGids"], json({29, 50}));
  EXPECT_EQ(c["process"]["noNewPrivileges"], true);
  // PATH and HOME are added when the image has none.
  EXPECT_EQ(c["process"]["env"],
            json({std::string("PATH=") + k_default_path, "A=1", "HOME=/home/app"}));
  EXPECT_EQ(c["root"]["path"], m_rootfs.string());
  EXPECT_EQ(c["root"]["readonly"], false);
  EXPECT_EQ(c["hostname"], "distill");
  EXPECT_FALSE(c["linux"].contains("cgroupsPath"));
}

TEST_F(ConfigJsonTest, ImagePathAndHomeWin) {
  RunOptions options;
  options.args = {"/app"};
  options.env = {"PATH=/custom", "HOME=/h"};
  json c = config(options);
  EXPECT_EQ(c["process"]["env"], json({"PATH=/custom", "HOME=/h"}));
  EXPECT_EQ(c["process"]["user"]["uid"], 0);
  EXPECT_FALSE(c["process"]["user"].contains("additionalGids"));
}

TEST_F(ConfigJsonTest, TerminalAsksForAPtyAndSetsTerm) {
  RunOptions options;
  options.args = {"/busybox/sh"};
  options.terminal = true;
  json c = config(options);
  EXPECT_EQ(c["process"]["terminal"], true);
  EXPECT_EQ(c["process"]["env"],
            json({std::string("PATH=") + k_default_path, "HOME=/root", "TERM=xterm"}));
  // The image's (or -e) TERM wins; without -t none is added.
  options.env = {"TERM=vt100"};
  EXPECT_EQ(config(options)["process"]["env"],
            json({std::string("PATH=") + k_default_path, "TERM=vt100", "HOME=/root"}));
  EXPECT_FALSE(config(options)["process"].contains("consoleSize"));
  options.console_rows = 33;
  options.console_columns = 101;
  EXPECT_EQ(config(options)["process"]["consoleSize"], json({{"height", 33}, {"width", 101}}));
  options.terminal = false;
  options.env = {};
  c = config(options);
  EXPECT_EQ(c["process"]["env"], json({std::string("PATH=") + k_default_path, "HOME=/root"}));
  EXPECT_FALSE(c["process"].contains("consoleSize"));
}

TEST(RunOptionsFor, InteractiveAndTerminalReachTheProcess) {
  RunRequest request;
  request.config.cmd = std::vector<std::string>{"/busybox/sh"};
  EXPECT_FALSE(run_options_for(request).terminal);
  request.terminal = true;
  EXPECT_TRUE(run_options_for(request).terminal);
}

TEST_F(ConfigJsonTest, CapabilitiesAreDockersDefaults) {
  RunOptions options;
  options.args = {"/app"};
  json c = config(options);
  const json& caps = c["process"]["capabilities"];
  EXPECT_EQ(caps["bounding"].size(), 14u);
  EXPECT_EQ(caps["bounding"], caps["effective"]);
  EXPECT_EQ(caps["bounding"], caps["permitted"]);
  std::vector<std::string> bounding = caps["bounding"];
  EXPECT_NE(std::find(bounding.begin(), bounding.end(), "CAP_NET_BIND_SERVICE"), bounding.end());
  EXPECT_EQ(std::find(bounding.begin(), bounding.end(), "CAP_SYS_ADMIN"), bounding.end());
}

TEST_F(ConfigJsonTest, NofileNeverExceedsHardLimit) {
  RunOptions options;
  options.args = {"/app"};
  json c = config(options);
  struct rlimit limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_EQ(c["process"]["rlimits"].size(), 1u);
  const json& nofile = c["process"]["rlimits"][0];
  EXPECT_EQ(nofile["type"], "RLIMIT_NOFILE");
  EXPECT_LE(nofile["hard"].get<uint64_t>(), static_cast<uint64_t>(limit.rlim_max));
  EXPECT_LE(nofile["soft"].get<uint64_t>(), nofile["hard"].get<uint64_t>());
}

TEST_F(ConfigJsonTest, NetworkNamespaceUnlessHost) {
  RunOptions options;
  options.args = {"/app"};
  json none = config(options);
  for (const char* type : {"pid", "ipc", "uts", "mount", "network"}) {
    EXPECT_TRUE(has_namespace(none, type)) << type;
  }
  options.network = RunOptions::Network::Host;
  json host = config(options);
  EXPECT_FALSE(has_namespace(host, "network"));
  EXPECT_TRUE(has_namespace(host, "pid"));
}

TEST_F(ConfigJsonTest, MountsAndMaskedPaths) {
  RunOptions options;
  options.args = {"/app"};
  options.read_only = true;
  json c = config(options);
  std::map<std::string, json> by_destination;
  for (const auto& m : c["mounts"]) {
    by_destination[m["destination"]] = m;
  }
  for (const char* dest : {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"}) {
    EXPECT_TRUE(by_destination.count(dest)) << dest;
  }
  EXPECT_EQ(by_destination["/dev"]["type"], "tmpfs");
  std::vector<std::string> sys_options = by_destination["/sys"]["options"];
  EXPECT_NE(std::find(sys_options.begin(), sys_options.end(), "ro"), sys_options.end());
  std::vector<std::string> masked = c["linux"]["maskedPaths"];
  EXPECT_NE(std::find(masked.begin(), masked.end(), "/proc/kcore"), masked.end());
  std::vector<std::string> readonly = c["linux"]["readonlyPaths"];
  EXPECT_NE(std::find(readonly.begin(), readonly.end(), "/proc/sys"), readonly.end());
  EXPECT_EQ(c["root"]["readonly"], true);
}

TEST_F(ConfigJsonTest, Errors) {
  RunOptions options;
  auto empty = runtime_config_json(options, m_rootfs);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, ErrorKind::InvalidInput);
  options.args = {"/app"};
  options.user = "ghost";
  auto ghost = runtime_config_json(options, m_rootfs);
  ASSERT_FALSE(ghost.ok());
  EXPECT_NE(ghost.error().message.find("ghost"), std::string::npos);
  options.user = "";
  options.cwd = "relative";
  EXPECT_FALSE(runtime_config_json(options, m_rootfs).ok());
}

TEST_F(ConfigJsonTest, PasswdSymlinkedOutOfRootIsReadInsideRoot) {
  // /etc/passwd -> /etc/passwd.real (absolute) must be read from the rootfs.
  std::filesystem::rename(m_rootfs / "etc/passwd", m_rootfs / "etc/passwd.real");
  std::filesystem::create_symlink("/etc/passwd.real", m_rootfs / "etc/passwd");
  auto user = resolve_user_in_rootfs("app", m_rootfs);
  ASSERT_TRUE(user.ok()) << user.error().message;
  EXPECT_EQ(user->uid, 1000u);
  // A link climbing out with ".." is clamped at the root as well.
  std::filesystem::remove(m_rootfs / "etc/passwd");
  std::filesystem::create_symlink("../../../../etc/passwd.real", m_rootfs / "etc/passwd");
  auto clamped = resolve_user_in_rootfs("app", m_rootfs);
  ASSERT_TRUE(clamped.ok()) << clamped.error().message;
  EXPECT_EQ(clamped->uid, 1000u);
}

TEST(RunOptionsFor, RequestOverridesImage) {
  RunRequest request;
  request.config.entrypoint = Args{"/app"};
  request.config.cmd = Args{"serve"};
  request.config.env = {"PATH=/bin", "A=1"};
  request.config.user = "65532";
  request.config.working_dir = "/home/nonroot";
  RunOptions image = run_options_for(request);
  EXPECT_EQ(image.args, (Args{"/app", "serve"}));
  EXPECT_EQ(image.user, "65532");
  EXPECT_EQ(image.cwd, "/home/nonroot");
  EXPECT_EQ(image.network, RunOptions::Network::None);

  request.user = "0";
  request.workdir = "/tmp";
  request.env_overrides = {"A=2"};
  request.args = {"check"};
  request.network = RunOptions::Network::Host;
  RunOptions overridden = run_options_for(request);
  EXPECT_EQ(overridden.args, (Args{"/app", "check"}));
  EXPECT_EQ(overridden.env, (Args{"PATH=/bin", "A=2"}));
  EXPECT_EQ(overridden.user, "0");
  EXPECT_EQ(overridden.cwd, "/tmp");
  EXPECT_EQ(overridden.network, RunOptions::Network::Host);
}

}  // namespace
}  // namespace distill::runtime
