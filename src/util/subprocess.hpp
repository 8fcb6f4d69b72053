// Running another program (gpgv, runc) without a shell, capturing its output.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace distill::util {

struct Command {
  std::vector<std::string> argv;          // argv[0] is looked up in PATH
  std::optional<std::string> stdin_data;  // fed to stdin, else /dev/null
  bool capture_stdout = true;             // else inherited
  bool capture_stderr = true;             // else inherited
  std::filesystem::path cwd;              // empty: inherit
};

struct CommandResult {
  int exit_code = 0;  // 128+N when killed by signal N
  std::string stdout_data;
  std::string stderr_data;
};

// Fails only when the program cannot be started; a non-zero exit is a result.
Result<CommandResult> run_command(const Command& command);

// Finds an executable in PATH; empty if absent.
std::filesystem::path find_program(const std::string& name);

}  // namespace distill::util
