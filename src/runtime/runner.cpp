// Bundle execution through runc/crun: see runner.hpp. Signals reach the waiting
// loop through a self-pipe written by an async-signal-safe handler.
#include "runtime/runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "runtime/console_relay.hpp"
#include "runtime/console_socket.hpp"
#include "runtime/terminal.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"
#include "util/text.hpp"

extern char** environ;

namespace distill::runtime {

namespace {

// Stop requests, forwarded to the container; SIGWINCH (the caller's terminal
// was resized) is handled too and only matters with a terminal.
constexpr int k_forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
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
  // The first stop signal drained so far, 0 if none.
  [[nodiscard]] int first_stop() const { return m_first_stop; }

  struct Received {
    int stops = 0;         // SIGINT, SIGTERM, SIGHUP
    bool resized = false;  // SIGWINCH
  };
  // The signals received since the last call.
  Received drain() {
    Received received;
    unsigned char buffer[64];
    ssize_t n = 0;
    while ((n = ::read(m_read.get(), buffer, sizeof(buffer))) > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        if (buffer[i] == SIGWINCH) {
          received.resized = true;
        } else {
          ++received.stops;
          if (m_first_stop == 0) {
            m_first_stop = buffer[i];
          }
        }
      }
    }
    return received;
  }

 private:
  SignalForwarding(util::Fd read, util::Fd write)
      : m_read(std::move(read)), m_write(std::move(write)) {}

  util::Fd m_read;
  util::Fd m_write;
  struct sigaction m_old[std::size(k_forwarded_signals)]{};
  bool m_installed = false;
  int m_first_stop = 0;
};

// Starts the runtime with stdin from `input` (< 0: /dev/null), stdout and
// stderr on `output` and `error`.
Result<pid_t> spawn_runtime(const std::vector<std::string>& args, int input, int output = 1,
                            int error = 2) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (input < 0) {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  } else if (input != 0) {
    posix_spawn_file_actions_adddup2(&actions, input, 0);
  }
  if (output != 1) {
    posix_spawn_file_actions_adddup2(&actions, output, 1);
  }
  if (error != 2) {
    posix_spawn_file_actions_adddup2(&actions, error, 2);
  }
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
  argv.reserve(args.size() + 1);
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

// One container's runtime invocation: the program, its private state directory
// (--root, --log, --pid-file, the console socket) and the container.
struct RuntimeCall {
  std::filesystem::path runtime;
  std::filesystem::path state;
  std::string container_id;
  std::string bundle;

  [[nodiscard]] std::string root() const { return state.string(); }
  [[nodiscard]] std::filesystem::path log_file() const { return state / "runtime.log"; }
  [[nodiscard]] std::filesystem::path pid_file() const { return state / "container.pid"; }
  [[nodiscard]] std::vector<std::string> run_args() const {
    return {runtime.string(),
            "--root",
            root(),
            "--log",
            log_file().string(),
            "run",
            "--bundle",
            bundle,
            "--pid-file",
            pid_file().string()};
  }

  // The error for a container that never started: the runtime's own reason.
  [[nodiscard]] Error start_failure(int exit_code) const {
    std::string why = last_log_line(log_file());
    return Error{ErrorKind::Io,
                 runtime.filename().string() + " could not start container " + container_id +
                     (why.empty() ? " (exit " + std::to_string(exit_code) + ")" : ": " + why),
                 start_failure_status(why)};
  }
};

// Like `docker stop`: SIGTERM on the first stop request; SIGKILL on a second one
// or after k_stop_timeout (a PID 1 without a handler ignores SIGTERM).
class StopForwarder {
 public:
  explicit StopForwarder(const RuntimeCall& call) : m_call(call) {}

  // Called on every tick of a waiting loop with the stop signals just received.
  void tick(int stops) {
    m_seen += stops;
    bool overdue = m_delivered > 0 && !m_killed_hard &&
                   std::chrono::steady_clock::now() - m_first_delivery > k_stop_timeout;
    if (m_seen <= m_delivered && !overdue) {
      return;
    }
    const bool hard = m_delivered > 0;
    util::Command kill{{m_call.runtime.string(), "--root", m_call.root(), "kill",
                        m_call.container_id, hard ? "SIGKILL" : "SIGTERM"}};
    auto killed = util::run_command(kill);
    // Before the container exists `kill` fails; it is retried on the next tick.
    if (killed.ok() && killed->exit_code == 0) {
      if (m_delivered == 0) {
        m_first_delivery = std::chrono::steady_clock::now();
      }
      m_killed_hard = hard;
      m_delivered = std::max(m_seen, 1);
    }
  }

 private:
  const RuntimeCall& m_call;
  int m_seen = 0;
  int m_delivered = 0;
  bool m_killed_hard = false;
  std::chrono::steady_clock::time_point m_first_delivery;
};

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  if (WIFSIGNALED(wait_status)) {
    return 128 + WTERMSIG(wait_status);
  }
  return 0;
}

// Without a terminal: `runc run` in the foreground; its status is the container's.
Result<int> run_attached(const RuntimeCall& call, const Stdio& stdio,
                         SignalForwarding& forwarding) {
  std::vector<std::string> args = call.run_args();
  args.push_back(call.container_id);
  DISTILL_TRY(pid_t pid,
              spawn_runtime(args, stdio.interactive ? stdio.input : -1, stdio.output, stdio.error));
  StopForwarder stopper(call);
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
    stopper.tick(forwarding.drain().stops);
  }
  int exit_code = exit_code_of(wait_status);
  if (!std::filesystem::exists(call.pid_file()) && exit_code != 0) {
    return call.start_failure(exit_code);
  }
  return exit_code;
}

// Makes this process the child subreaper for its lifetime, so that the container
// process, orphaned when `runc run -d` exits, becomes our child; restores the
// previous setting afterwards.
class SubreaperScope {
 public:
  SubreaperScope() {
    int previous = 0;
    if (::prctl(PR_GET_CHILD_SUBREAPER, &previous) == 0) {
      m_previous = previous;
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  ~SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, m_previous); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;

 private:
  int m_previous = 0;
};

// The container's pid as the runtime wrote it to --pid-file.
Result<pid_t> read_container_pid(const RuntimeCall& call) {
  DISTILL_TRY(std::string text, util::read_file(call.pid_file()));
  pid_t pid = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      break;
    }
    pid = pid * 10 + (c - '0');
  }
  if (pid <= 0) {
    return make_error(ErrorKind::Internal,
                      call.pid_file().string() + ": no container pid in '" + text + "'");
  }
  return pid;
}

// With a terminal: `runc run -d --console-socket`, then the relay until the
// container (our child by then) exits.
Result<int> run_with_terminal(const RuntimeCall& call, const Stdio& stdio,
                              SignalForwarding& forwarding) {
  SubreaperScope subreaper;
  DISTILL_TRY(ConsoleSocket socket, ConsoleSocket::listen(call.state / "console.sock"));
  std::vector<std::string> args = call.run_args();
  args.insert(args.end(), {"-d", "--console-socket", socket.path().string(), call.container_id});
  DISTILL_TRY(pid_t runtime_pid, spawn_runtime(args, -1));

  // The runtime sends the master while it creates the container, then exits.
  util::Fd master;
  std::optional<int> runtime_exit;
  StopForwarder stopper(call);
  while (!master.valid() || !runtime_exit) {
    if (!master.valid()) {
      auto received = socket.receive_fd(std::chrono::milliseconds(runtime_exit ? 1000 : 50));
      if (received.ok()) {
        master = std::move(*received);
      } else if (received.error().kind != ErrorKind::NotFound) {
        return received.error();
      } else if (runtime_exit) {  // exited 0 (a failure returned below), nothing came in 1 s
        return make_error(ErrorKind::Io, call.runtime.filename().string() +
                                             " sent no terminal for container " +
                                             call.container_id);
      }
    }
    if (!runtime_exit) {
      int wait_status = 0;
      pid_t done = ::waitpid(runtime_pid, &wait_status, WNOHANG);
      if (done == runtime_pid) {
        runtime_exit = exit_code_of(wait_status);
        if (*runtime_exit != 0) {
          return call.start_failure(*runtime_exit);
        }
      } else if (done < 0 && errno != EINTR) {
        return make_error(ErrorKind::Internal, std::string("waitpid: ") + std::strerror(errno));
      } else if (master.valid()) {
        pollfd pfd{forwarding.read_fd(), POLLIN, 0};
        ::poll(&pfd, 1, 20);
      }
    }
    stopper.tick(forwarding.drain().stops);
  }
  DISTILL_TRY(pid_t container_pid, read_container_pid(call));

  const int terminal_fd = ::isatty(stdio.input) != 0 ? stdio.input : stdio.output;
  copy_window_size(terminal_fd, master.get());
  std::optional<RawTerminal> raw;
  if (stdio.interactive) {
    auto entered = RawTerminal::enter(stdio.input);
    if (!entered.ok()) {
      return entered.error();
    }
    raw.emplace(std::move(*entered));
  }
  ConsoleRelay relay(std::move(master), stdio.interactive ? stdio.input : -1, stdio.output);
  bool relaying = true;
  for (;;) {
    int wait_status = 0;
    pid_t done = ::waitpid(container_pid, &wait_status, WNOHANG);
    if (done == container_pid) {
      relay.drain_output();
      return exit_code_of(wait_status);
    }
    if (done < 0 && errno != EINTR) {
      return make_error(ErrorKind::Internal, "waitpid on container " + call.container_id +
                                                 " (pid " + std::to_string(container_pid) +
                                                 "): " + std::strerror(errno));
    }
    if (relaying) {
      DISTILL_TRY(relaying, relay.pump(std::chrono::milliseconds(50), forwarding.read_fd()));
    } else {
      pollfd pfd{forwarding.read_fd(), POLLIN, 0};
      ::poll(&pfd, 1, 50);
    }
    SignalForwarding::Received received = forwarding.drain();
    if (received.resized) {
      copy_window_size(terminal_fd, relay.master());
    }
    stopper.tick(received.stops);
  }
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

Result<std::filesystem::path> require_oci_runtime() {
  std::filesystem::path runtime = find_oci_runtime();
  if (runtime.empty()) {
    return make_error(ErrorKind::NotFound,
                      "no OCI runtime: neither runc nor crun is installed (apt-get install runc)");
  }
  return runtime;
}

std::string make_container_id() {
  static std::atomic<unsigned> counter{0};
  return "distill-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

Result<int> run_bundle(const std::filesystem::path& bundle_dir, const std::string& container_id,
                       const Stdio& stdio, int* stop_signal) {
  DISTILL_TRY(std::filesystem::path runtime, require_oci_runtime());
  std::lock_guard<std::mutex> lock(g_run_mutex);
  DISTILL_TRY(util::TempDir state, util::TempDir::create("distill-runc-"));
  RuntimeCall call{runtime, state.path(), container_id,
                   std::filesystem::absolute(bundle_dir).string()};
  DISTILL_TRY(SignalForwarding forwarding, SignalForwarding::install());
  Result<int> status = stdio.terminal ? run_with_terminal(call, stdio, forwarding)
                                      : run_attached(call, stdio, forwarding);
  // `runc run` removes a container that ends; one whose state is still there
  // (`run -d`, or a runtime killed half-way) is deleted, a runtime start
  // spared otherwise.
  if (std::filesystem::exists(call.state / container_id)) {
    util::Command remove{{runtime.string(), "--root", call.root(), "delete", "-f", container_id}};
    (void)util::run_command(remove);
  }
  if (stop_signal != nullptr) {
    (void)forwarding.drain();  // one that came after the last look
    *stop_signal = forwarding.first_stop();
  }
  return status;
}

int start_failure_status(std::string_view reason) {
  // runc says "no such file or directory", crun "No such file or directory".
  const std::string lower = util::ascii_lower(reason);
  if (lower.find("no such file or directory") != std::string::npos ||
      lower.find("executable file not found") != std::string::npos) {
    return 127;
  }
  if (lower.find("permission denied") != std::string::npos) {
    return 126;
  }
  return 0;
}

}  // namespace distill::runtime
