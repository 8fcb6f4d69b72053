// End-to-end tests of run_image through runc with a busybox rootfs built from the
// host's static /bin/busybox. They need root and runc (or crun) and are skipped
// otherwise. tests/integration/t_runtime_runc.sh runs exactly these.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>

#include "layer_builder.hpp"
#include "runtime/rootfs_unpacker.hpp"
#include "runtime/run_image.hpp"
#include "runtime/runner.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::runtime {
namespace {

namespace fs = std::filesystem;
using testing::LayerEntry;

// Redirects this process's fd 1 and 2 to files while alive (runc inherits them).
class CapturedOutput {
 public:
  explicit CapturedOutput(const fs::path& dir) : m_out(dir / "stdout"), m_err(dir / "stderr") {
    std::fflush(stdout);
    std::fflush(stderr);
    m_saved_out = ::dup(1);
    m_saved_err = ::dup(2);
    int out = ::open(m_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = ::open(m_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close(out);
    ::close(err);
  }
  ~CapturedOutput() { restore(); }
  CapturedOutput(const CapturedOutput&) = delete;
  CapturedOutput& operator=(const CapturedOutput&) = delete;

  void restore() {
    if (m_saved_out >= 0) {
      std::fflush(stdout);
      std::fflush(stderr);
      ::dup2(m_saved_out, 1);
      ::dup2(m_saved_err, 2);
      ::close(m_saved_out);
      ::close(m_saved_err);
      m_saved_out = m_saved_err = -1;
    }
  }
  std::string out() const { return util::read_file(m_out).value(); }
  std::string err() const { return util::read_file(m_err).value(); }

 private:
  fs::path m_out, m_err;
  int m_saved_out = -1, m_saved_err = -1;
};

// Makes this process's fd 0 read `text` (then end of file) while alive.
class RedirectedInput {
 public:
  explicit RedirectedInput(const std::string& text) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    EXPECT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    m_saved = ::dup(0);
    ::dup2(fds[0], 0);
    ::close(fds[0]);
  }
  ~RedirectedInput() {
    ::dup2(m_saved, 0);
    ::close(m_saved);
  }
  RedirectedInput(const RedirectedInput&) = delete;
  RedirectedInput& operator=(const RedirectedInput&) = delete;

 private:
  int m_saved = -1;
};

class RuncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "running containers needs root";
    }
    if (find_oci_runtime().empty()) {
      GTEST_SKIP() << "neither runc nor crun is installed";
    }
    if (::access("/bin/busybox", X_OK) != 0) {
      GTEST_SKIP() << "no /bin/busybox to build a test image from";
    }
    auto dir = util::TempDir::create("distill-runc-test-");
    ASSERT_TRUE(dir.ok());
    m_dir.emplace(std::move(*dir));
    m_layer = m_dir->path() / "busybox.tar.gz";
    std::string problem = testing::write_layer(
        m_layer,
        {
            {.name = "bin", .type = "dir", .mode = 0755},
            {.name = "bin/busybox", .src = "/bin/busybox", .mode = 0755},
            {.name = "bin/sh", .type = "symlink", .target = "busybox"},
            {.name = "etc", .type = "dir", .mode = 0755},
            {.name = "etc/passwd",
             .content = "root:x:0:0:root:/root:/sbin/nologin\n"
                        "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"},
            {.name = "etc/group", .content = "root:x:0:\nnonroot:x:65532:\nstaff:x:50:nonroot\n"},
            {.name = "home/nonroot", .type = "dir", .mode = 0700, .uid = 65532, .gid = 65532},
            {.name = "tmp", .type = "dir", .mode = 01777},
        },
        true);
    ASSERT_EQ(problem, "");
    m_request.layer_files = {m_layer};
    m_request.config.env = {"PATH=/bin", "GREETING=hello"};
    m_request.config.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
    m_request.config.cmd = std::vector<std::string>{"exit 0"};
  }

  // Runs `script` with sh -c, capturing the container's stdout and stderr.
  Result<int> run(const std::string& script) {
    m_request.args = {script};
    CapturedOutput capture(m_dir->path());
    Result<int> status = run_image(m_request);
    capture.restore();
    m_out = capture.out();
    m_err = capture.err();
    return status;
  }

  std::optional<util::TempDir> m_dir;
  fs::path m_layer;
  RunRequest m_request;
  std::string m_out, m_err;
};

TEST_F(RuncTest, ExitStatusAndStderrPassThrough) {
  auto status = run("echo to-stdout; echo to-stderr >&2; exit 3");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 3);
  EXPECT_EQ(m_out, "to-stdout\n");
  EXPECT_NE(m_err.find("to-stderr\n"), std::string::npos) << m_err;
}

TEST_F(RuncTest, ImageCmdAndEnvApply) {
  m_request.env_overrides = {"EXTRA=1"};
  auto status = run("echo $GREETING $EXTRA $HOME; pwd; hostname");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(m_out, "hello 1 /root\n/\ndistill\n");
}

TEST_F(RuncTest, NetworkNoneHasOnlyLoopback) {
  auto status = run("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 0) << m_err;
  EXPECT_EQ(m_out, "lo\n");
}

TEST_F(RuncTest, NetworkHostSharesInterfaces) {
  m_request.network = RunOptions::Network::Host;
  auto status = run("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 0) << m_err;
  auto host = util::read_file("/proc/net/dev");
  ASSERT_TRUE(host.ok());
  size_t host_interfaces = 0;
  for (char c : *host) {
    host_interfaces += c == '\n' ? 1 : 0;
  }
  size_t container_interfaces = 0;
  for (char c : m_out) {
    container_interfaces += c == '\n' ? 1 : 0;
  }
  EXPECT_EQ(container_interfaces + 2, host_interfaces) << m_out;
}

TEST_F(RuncTest, UserAndWorkdirAreApplied) {
  m_request.user = "65532";
  m_request.workdir = "/home/nonroot";
  auto status =
      run("id -u; id -g; id -G; pwd; echo $HOME; touch /root-owned 2>/dev/null || echo denied");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 0) << m_err;
  EXPECT_EQ(m_out, "65532\n65532\n65532 50\n/home/nonroot\n/home/nonroot\ndenied\n");
}

TEST_F(RuncTest, ReadOnlyRootfs) {
  m_request.read_only = true;
  auto status = run("touch /tmp/x 2>/dev/null && echo writable || echo read-only");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(m_out, "read-only\n");
}

TEST_F(RuncTest, ImageUserByName) {
  m_request.config.user = "nonroot";
  auto status = run("id -u");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(m_out, "65532\n");
}

TEST_F(RuncTest, MissingProgramIsOneErrorNamingIt) {
  m_request.config.entrypoint = std::vector<std::string>{"/no/such/program"};
  m_request.args = {};
  CapturedOutput capture(m_dir->path());
  auto status = run_image(m_request);
  capture.restore();
  ASSERT_FALSE(status.ok()) << "exit status " << *status;
  EXPECT_NE(
      status.error().message.find("cannot run \"/no/such/program\": no such file in the image"),
      std::string::npos)
      << status.error().message;
  EXPECT_EQ(status.error().exit_status, 127) << status.error().message;
  // Found in the unpacked root: the runtime was not started, so it printed
  // no line of its own beside distill's.
  EXPECT_EQ(capture.err(), "");
}

TEST_F(RuncTest, AStartFailureTheRootCannotTellIsTheRuntimesReason) {
  // Under /proc, which the runtime mounts: not judged from the root.
  m_request.config.entrypoint = std::vector<std::string>{"/proc/no/such/program"};
  m_request.args = {};
  CapturedOutput capture(m_dir->path());
  auto status = run_image(m_request);
  capture.restore();
  ASSERT_FALSE(status.ok()) << "exit status " << *status;
  EXPECT_NE(status.error().message.find("could not start container distill-"), std::string::npos)
      << status.error().message;
  EXPECT_NE(status.error().message.find("/proc/no/such/program"), std::string::npos)
      << status.error().message;
  EXPECT_EQ(status.error().exit_status, 127) << status.error().message;
}

TEST_F(RuncTest, ProgramThatIsNotExecutableFailsWith126) {
  m_request.config.entrypoint = std::vector<std::string>{"/etc/passwd"};
  m_request.args = {};
  CapturedOutput capture(m_dir->path());
  auto status = run_image(m_request);
  capture.restore();
  ASSERT_FALSE(status.ok()) << "exit status " << *status;
  EXPECT_EQ(status.error().exit_status, 126) << status.error().message;
}

// The reasons runc 1.1 and crun 1.8 give, and the statuses docker and podman
// give for them.
TEST(StartFailureStatus, AsDockerAndPodmanGiveIt) {
  EXPECT_EQ(start_failure_status("unable to start container process: exec: \"/no/such\": stat "
                                 "/no/such: no such file or directory"),
            127);
  EXPECT_EQ(start_failure_status("unable to start container process: exec: \"app\": executable "
                                 "file not found in $PATH"),
            127);
  EXPECT_EQ(start_failure_status("executable file `app` not found in $PATH: No such file or "
                                 "directory"),
            127);
  EXPECT_EQ(start_failure_status("unable to start container process: exec: \"/etc/passwd\": "
                                 "permission denied"),
            126);
  EXPECT_EQ(start_failure_status("open executable: Permission denied"), 126);
  EXPECT_EQ(start_failure_status("unable to apply cgroup configuration: device or resource busy"),
            0);
  EXPECT_EQ(start_failure_status(""), 0);
}

TEST_F(RuncTest, UnknownUserFailsBeforeRunning) {
  m_request.user = "ghost";
  auto status = run("exit 0");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::NotFound);
  EXPECT_NE(status.error().message.find("ghost"), std::string::npos);
}

TEST_F(RuncTest, StdinIsNullWithoutInteractive) {
  RedirectedInput input("not for the container\n");
  auto status = run("cat; echo end");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(m_out, "end\n");
}

TEST_F(RuncTest, InteractivePassesStdinThrough) {
  RedirectedInput input("line one\nline two\n");
  m_request.interactive = true;
  auto status = run("cat; exit 4");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 4);
  EXPECT_EQ(m_out, "line one\nline two\n");
}

TEST_F(RuncTest, TerminalRunsAShellOnAPty) {
  // run -it with piped input: the shell reads its commands from the pty, then
  // end of file; its output (and the pty's echo) comes back through the master.
  RedirectedInput input("echo hi-from-$((40+2)); [ -t 0 ] && echo stdin-is-a-tty; exit 3\n");
  m_request.interactive = true;
  m_request.terminal = true;
  m_request.entrypoint = std::vector<std::string>{"/bin/sh"};
  CapturedOutput capture(m_dir->path());
  auto status = run_image(m_request);
  capture.restore();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 3);
  std::string out = capture.out();
  EXPECT_NE(out.find("hi-from-42\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("stdin-is-a-tty\r\n"), std::string::npos) << out;
}

TEST_F(RuncTest, TerminalWithoutInteractiveReadsNoInput) {
  RedirectedInput input("exit 9\n");
  m_request.terminal = true;
  m_request.args = {"tty; echo \"TERM=$TERM\"; exit 5"};
  CapturedOutput capture(m_dir->path());
  auto status = run_image(m_request);
  capture.restore();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 5);
  std::string out = capture.out();
  EXPECT_NE(out.find("/dev/pts/"), std::string::npos) << out;
  EXPECT_NE(out.find("TERM=xterm"), std::string::npos) << out;
}

TEST_F(RuncTest, TerminalMissingProgramIsAnErrorNamingIt) {
  m_request.terminal = true;
  m_request.entrypoint = std::vector<std::string>{"/no/such/program"};
  CapturedOutput capture(m_dir->path());
  auto status = run_image(m_request);
  capture.restore();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("/no/such/program"), std::string::npos)
      << status.error().message;
  EXPECT_EQ(status.error().exit_status, 127) << status.error().message;
}

void swallow(int) {}

// The script of a container that exits 7 on SIGTERM, once it printed "ready".
constexpr const char* k_stoppable = "trap 'exit 7' TERM; echo ready; sleep 30 & wait";

// Runs `run` (a container running k_stoppable, its stdout going to `output`)
// on a thread, signals this process with SIGTERM once "ready" is in `output`,
// and returns what `run` returned; `finished` says whether it stopped.
Result<int> stop_once_ready(const fs::path& output, const std::function<Result<int>()>& run,
                            bool& finished) {
  // A handler of our own until run_bundle installs its forwarding, so an early
  // signal does not kill the test binary.
  struct sigaction action {};
  struct sigaction old {};
  action.sa_handler = swallow;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, &old);
  auto future = std::async(std::launch::async, run);
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    auto out = util::read_file(output);
    if (out.ok() && out->find("ready") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(::getpid(), SIGTERM);
  finished = future.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  if (!finished) {
    ::kill(::getpid(), SIGTERM);  // escalates to SIGKILL
  }
  auto status = future.get();
  ::sigaction(SIGTERM, &old, nullptr);
  return status;
}

// run_image of k_stoppable, stopped once it is up.
Result<int> run_and_sigterm(RunRequest& request, const fs::path& dir, bool& finished) {
  request.args = {k_stoppable};
  CapturedOutput capture(dir);
  auto status = stop_once_ready(
      dir / "stdout", [&] { return run_image(request); }, finished);
  capture.restore();
  return status;
}

TEST_F(RuncTest, SigtermIsForwardedToTheContainer) {
  bool finished = false;
  auto status = run_and_sigterm(m_request, m_dir->path(), finished);
  ASSERT_TRUE(finished) << "the container did not stop on SIGTERM";
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 7);
}

TEST_F(RuncTest, SigtermIsForwardedWithATerminalToo) {
  m_request.terminal = true;
  bool finished = false;
  auto status = run_and_sigterm(m_request, m_dir->path(), finished);
  ASSERT_TRUE(finished) << "the container did not stop on SIGTERM";
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 7);
}

// run_bundle on its own, as `distill test` calls it: the container's streams
// into files of the caller's, and the stop it forwarded reported.
class RunBundleTest : public RuncTest {
 protected:
  // A bundle of the test image running `script` with sh -c.
  fs::path bundle(const std::string& script) {
    fs::path dir = m_dir->path() / "bundle";
    fs::create_directories(dir / "rootfs");
    EXPECT_TRUE(unpack_layers({m_layer}, dir / "rootfs").ok());
    m_request.args = {script};
    EXPECT_TRUE(write_bundle_config(run_options_for(m_request), dir).ok());
    return dir;
  }
  util::Fd file(const char* name) {
    return util::Fd(
        ::open((m_dir->path() / name).c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  }
};

TEST_F(RunBundleTest, StreamsGoWhereTheCallerSays) {
  const fs::path dir = bundle("echo to-stdout; echo to-stderr >&2; exit 4");
  util::Fd out = file("out");
  util::Fd err = file("err");
  Stdio stdio;
  stdio.output = out.get();
  stdio.error = err.get();
  int stop = -1;
  auto status = run_bundle(dir, make_container_id(), stdio, &stop);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 4);
  EXPECT_EQ(stop, 0);
  EXPECT_EQ(*util::read_file(m_dir->path() / "out"), "to-stdout\n");
  EXPECT_EQ(*util::read_file(m_dir->path() / "err"), "to-stderr\n");
}

TEST_F(RunBundleTest, TheForwardedStopIsReported) {
  const fs::path dir = bundle(k_stoppable);
  util::Fd out = file("out");
  Stdio stdio;
  stdio.output = out.get();
  int stop = 0;
  bool finished = false;
  auto status = stop_once_ready(
      m_dir->path() / "out", [&] { return run_bundle(dir, make_container_id(), stdio, &stop); },
      finished);
  ASSERT_TRUE(finished) << "the container did not stop on SIGTERM";
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 7);
  EXPECT_EQ(stop, SIGTERM);
}

}  // namespace
}  // namespace distill::runtime
