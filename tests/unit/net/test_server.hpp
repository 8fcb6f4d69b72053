// TestServer: runs tests/integration/lib/http_server.py on 127.0.0.1 for the
// duration of a test (fork/exec, free port from --port-file, stopped by PID).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../support/python.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::net::testing {

class TestServer {
 public:
  // Serves `root`; `extra` are more http_server.py flags (fault rules).
  bool start(const std::filesystem::path& root, const std::vector<std::string>& extra = {}) {
    std::filesystem::path python = test::system_python();
    if (python.empty()) {
      return false;
    }
    auto state = util::TempDir::create("distill-net-server-");
    if (!state.ok()) {
      return false;
    }
    m_state = std::make_unique<util::TempDir>(std::move(*state));
    std::filesystem::path port_file = m_state->path() / "port";
    std::vector<std::string> args = {
        python.string(), std::string(DISTILL_SOURCE_DIR) + "/tests/integration/lib/http_server.py",
        "--root",        root.string(),
        "--port-file",   port_file.string(),
        "--pid-file",    (m_state->path() / "pid").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    m_pid = ::fork();
    if (m_pid == 0) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (m_pid < 0) {
      return false;
    }
    for (int i = 0; i < 200; ++i) {
      auto text = util::read_file(port_file);
      if (text.ok() && !text->empty()) {
        m_port = std::stoi(*text);
        return true;
      }
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  ~TestServer() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
    }
  }

  [[nodiscard]] std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }
  [[nodiscard]] int port() const { return m_port; }

 private:
  std::unique_ptr<util::TempDir> m_state;
  pid_t m_pid = -1;
  int m_port = 0;
};

}  // namespace distill::net::testing
