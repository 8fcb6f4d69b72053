// Every `distill` command on one CLI11 tree, with its runner: what main() parses
// and dispatches, and what the completion scripts and manual pages walk. Each
// command's --help ends with its examples (help_examples.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>

#include "cli/command.hpp"

namespace distill::cli {

// What `distill --version` prints and the manual pages carry.
inline constexpr const char* k_version = "distill 0.1.0";

struct CommandTable {
  std::unique_ptr<CLI::App> app;  // a stable address: runners refer to it
  std::map<const CLI::App*, CommandRunner> runners;
  // The exit status of a command's errors when it is not k_exit_failure: `diff`
  // exits 1 for "the images differ" and `outdated --exit-code` for "something
  // is outdated", so their errors exit 2, as diff(1)'s do.
  std::map<const CLI::App*, int> error_status;
};

CommandTable make_command_table();

}  // namespace distill::cli
