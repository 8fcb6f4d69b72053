// Bundle execution through runc/crun: see runner.hpp. Signals reach the waiting
// loop through a self-pipe written by an async-signal-safe handler.
#include "runtime/runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <vector>

#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

extern char** environ;

namespace distill::runtime {

namespace {

constexpr int k_forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr std::chrono::seconds k_stop_timeout{10};

std::mutex g_run_mutex;
std::atomic<int> g_signal_pipe_write{-1};

void on_signal(int signo) {
  int saved = errno;
  int fd = g_signal_pipe_write.load();
  if (fd >= 0) {
    auto byte = static_cast<unsigned char>(signo);
    ssize_t ignored = ::write(fd, &byte, 1);
    (void)ignored;
  }
  errno = saved;
}

// Installs on_signal for the forwarded signals; restores the old ones on scope exit.
class SignalForwarding {
 public:
  static Result<SignalForwarding> install() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      return make_error(ErrorKind::Io, std::string("pipe: ") + std::strerror(errno));
    }
    SignalForwarding forwarding{util::Fd(fds[0]), util::Fd(fds[1])};
    g_signal_pipe_write.store(forwarding.m_write.get());
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    for (size_t i = 0; i < std::size(k_forwarded_signals); ++i) {
      ::sigaction(k_forwarded_signals[i], &action, &forwarding.m_old[i]);
    }
    forwarding.m_installed = true;
    return forwarding;
  }
  SignalForwarding(SignalForwarding&& other) noexcept
      : m_read(std::move(other.m_read)),
        m_write(std::move(other.m_write)),
        m_installed(std::exchange(other.m_installed, false)) {
    std::memcpy(m_old, other.m_old, sizeof(m_old));
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;
  SignalForwarding& operator=(SignalForwarding&&) = delete;
  ~SignalForwarding() {
    if (m_installed) {
      for (size_t i = 0; i < std::size(k_forwarded_signals); ++i) {
        ::sigaction(k_forwarded_signals[i], &m_old[i], nullptr);
      }
      g_signal_pipe_write.store(-1);
    }
  }

  [[nodiscard]] int read_fd() const { return m_read.get(); }

  // The number of signals received since the last call.
  int drain() {
    int count = 0;
    unsigned char buffer[64];
    ssize_t n = 0;
    while ((n = ::read(m_read.get(), buffer, sizeof(buffer))) > 0) {
      count += static_cast<int>(n);
    }
    return count;
  }

 private:
  SignalForwarding(util::Fd read, util::Fd write)
      : m_read(std::move(read)), m_write(std::move(write)) {}

  util::Fd m_read;
  util::Fd m_write;
  struct sigaction m_old[std::size(k_forwarded_signals)]{};
  bool m_installed = false;
};

Result<pid_t> spawn_runtime(const std::vector<std::string>& args) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signo : k_forwarded_signals) {
    sigaddset(&defaults, signo);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0].c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return make_error(ErrorKind::Io, args[0] + ": cannot start: " + std::strerror(rc));
  }
  return pid;
}

// The message of a runtime log line: logrus text format `time=".." level=error
// msg="runc run failed: why"` gives `why`; other lines are returned as they are.
std::string log_message(const std::string& line) {
  size_t start = line.find("msg=\"");
  if (start == std::string::npos) {
    return line;
  }
  std::string message;
  for (size_t i = start + 5; i < line.size() && line[i] != '"'; ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      ++i;
    }
    message += line[i];
  }
  for (const char* prefix : {"runc run failed: ", "crun: "}) {
    if (message.rfind(prefix, 0) == 0) {
      message.erase(0, std::strlen(prefix));
    }
  }
  return message;
}

// The last non-empty line of the runtime's log, for error messages.
std::string last_log_line(const std::filesystem::path& log) {
  auto text = util::read_file(log);
  if (!text.ok()) {
    return {};
  }
  std::string last;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) {
      end = text->size();
    }
    if (end > start) {
      last = text->substr(start, end - start);
    }
    start = end + 1;
  }
  return log_message(last);
}

}  // namespace

std::filesystem::path find_oci_runtime() {
  for (const char* name : {"runc", "crun"}) {
    std::filesystem::path program = util::find_program(name);
    if (program.empty()) {
      for (const char* dir : {"/usr/sbin", "/sbin", "/usr/local/sbin"}) {
        std::filesystem::path candidate = std::filesystem::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) {
          program = candidate;
          break;
        }
      }
    }
    if (!program.empty()) {
      return program;
    }
  }
  return {};
}

std::string make_container_id() {
  static std::atomic<unsigned> counter{0};
  return "distill-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

Result<int> run_bundle(const std::filesystem::path& bundle_dir, const std::string& container_id) {
  std::filesystem::path runtime = find_oci_runtime();
  if (runtime.empty()) {
    return make_error(ErrorKind::NotFound,
                      "no OCI runtime: neither runc nor crun is installed (apt-get install runc)");
  }
  std::lock_guard<std::mutex> lock(g_run_mutex);
  DISTILL_TRY(util::TempDir state, util::TempDir::create("distill-runc-"));
  const std::string root = state.path().string();
  const std::filesystem::path pid_file = state.path() / "container.pid";
  const std::filesystem::path log_file = state.path() / "runtime.log";
  const std::string bundle = std::filesystem::absolute(bundle_dir).string();

  DISTILL_TRY(SignalForwarding forwarding, SignalForwarding::install());
  DISTILL_TRY(pid_t pid,
              spawn_runtime({runtime.string(), "--root", root, "--log", log_file.string(), "run",
                             "--bundle", bundle, "--pid-file", pid_file.string(), container_id}));

  int signals_seen = 0;
  int signals_delivered = 0;
  bool killed_hard = false;
  std::chrono::steady_clock::time_point first_delivery;
  int wait_status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &wait_status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0 && errno != EINTR) {
      return make_error(ErrorKind::Internal, std::string("waitpid: ") + std::strerror(errno));
    }
    pollfd pfd{forwarding.read_fd(), POLLIN, 0};
    ::poll(&pfd, 1, 50);
    signals_seen += forwarding.drain();
    // Like `docker stop`: SIGTERM first; SIGKILL on a second signal or after
    // k_stop_timeout (a PID 1 without a handler ignores SIGTERM).
    bool overdue = signals_delivered > 0 && !killed_hard &&
                   std::chrono::steady_clock::now() - first_delivery > k_stop_timeout;
    if (signals_seen > signals_delivered || overdue) {
      const bool hard = signals_delivered > 0;
      util::Command kill{
          {runtime.string(), "--root", root, "kill", container_id, hard ? "SIGKILL" : "SIGTERM"}};
      auto killed = util::run_command(kill);
      // Before the container exists `kill` fails; it is retried on the next tick.
      if (killed.ok() && killed->exit_code == 0) {
        if (signals_delivered == 0) {
          first_delivery = std::chrono::steady_clock::now();
        }
        killed_hard = hard;
        signals_delivered = std::max(signals_seen, 1);
      }
    }
  }

  bool started = std::filesystem::exists(pid_file);
  util::Command remove{{runtime.string(), "--root", root, "delete", "-f", container_id}};
  (void)util::run_command(remove);

  int exit_code = 0;
  if (WIFEXITED(wait_status)) {
    exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    exit_code = 128 + WTERMSIG(wait_status);
  }
  if (!started && exit_code != 0) {
    std::string why = last_log_line(log_file);
    return make_error(ErrorKind::Io,
                      runtime.filename().string() + " could not start container " + container_id +
                          (why.empty() ? " (exit " + std::to_string(exit_code) + ")" : ": " + why));
  }
  return exit_code;
}

}  // namespace distill::runtime
