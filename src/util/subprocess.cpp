#include "util/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/fd.hpp"

extern char** environ;

namespace distill::util {

namespace {

Result<std::pair<Fd, Fd>> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return make_error(ErrorKind::Io, std::string("pipe: ") + std::strerror(errno));
  }
  return std::make_pair(Fd(fds[0]), Fd(fds[1]));
}

}  // namespace

std::filesystem::path find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? std::filesystem::path(name)
                                             : std::filesystem::path();
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::filesystem::path candidate = std::filesystem::path(path.substr(start, end - start)) / name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}

Result<CommandResult> run_command(const Command& command) {
  if (command.argv.empty()) {
    return make_error(ErrorKind::Internal, "run_command: empty argv");
  }
  std::filesystem::path program = find_program(command.argv[0]);
  if (program.empty()) {
    return make_error(ErrorKind::NotFound, command.argv[0] + ": program not found in PATH");
  }
  DISTILL_TRY(auto in_pipe, make_pipe());
  DISTILL_TRY(auto out_pipe, make_pipe());
  DISTILL_TRY(auto err_pipe, make_pipe());

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (command.stdin_data) {
    posix_spawn_file_actions_adddup2(&actions, in_pipe.first.get(), 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (command.capture_stdout) {
    posix_spawn_file_actions_adddup2(&actions, out_pipe.second.get(), 1);
  }
  if (command.capture_stderr) {
    posix_spawn_file_actions_adddup2(&actions, err_pipe.second.get(), 2);
  }
  if (!command.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, command.cwd.c_str());
  }
  std::vector<char*> argv;
  argv.reserve(command.argv.size() + 1);
  for (const auto& arg : command.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return make_error(ErrorKind::Io, command.argv[0] + ": cannot start: " + std::strerror(rc));
  }
  in_pipe.first.reset();
  out_pipe.second.reset();
  err_pipe.second.reset();
  if (!command.stdin_data) {
    in_pipe.second.reset();
  }

  CommandResult result;
  size_t written = 0;
  const std::string empty;
  const std::string& input = command.stdin_data ? *command.stdin_data : empty;
  if (in_pipe.second.valid()) {
    ::fcntl(in_pipe.second.get(), F_SETFL, O_NONBLOCK);
    if (input.empty()) {
      in_pipe.second.reset();
    }
  }
  if (!command.capture_stdout) {
    out_pipe.first.reset();
  }
  if (!command.capture_stderr) {
    err_pipe.first.reset();
  }
  while (in_pipe.second.valid() || out_pipe.first.valid() || err_pipe.first.valid()) {
    pollfd fds[3];
    int count = 0;
    int in_index = -1;
    int out_index = -1;
    int err_index = -1;
    if (in_pipe.second.valid()) {
      in_index = count;
      fds[count++] = {in_pipe.second.get(), POLLOUT, 0};
    }
    if (out_pipe.first.valid()) {
      out_index = count;
      fds[count++] = {out_pipe.first.get(), POLLIN, 0};
    }
    if (err_pipe.first.valid()) {
      err_index = count;
      fds[count++] = {err_pipe.first.get(), POLLIN, 0};
    }
    if (::poll(fds, static_cast<nfds_t>(count), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (in_index >= 0 && fds[in_index].revents != 0) {
      ssize_t n = ::write(in_pipe.second.get(), input.data() + written, input.size() - written);
      if (n > 0) {
        written += static_cast<size_t>(n);
      }
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        in_pipe.second.reset();
      }
    }
    auto drain = [](Fd& fd, std::string& into) {
      char buffer[65536];
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n > 0) {
        into.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.reset();
      }
    };
    if (out_index >= 0 && fds[out_index].revents != 0) {
      drain(out_pipe.first, result.stdout_data);
    }
    if (err_index >= 0 && fds[err_index].revents != 0) {
      drain(err_pipe.first, result.stderr_data);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return make_error(ErrorKind::Io, command.argv[0] + ": waitpid: " + std::strerror(errno));
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace distill::util
