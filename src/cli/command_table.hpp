// Every `distill` command on one CLI11 tree, with its runner: what main() parses
// and dispatches, and what the completion scripts and manual pages walk. Each
// command's --help ends with its examples (help_examples.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>

#include "cli/command.hpp"

namespace distill::cli {

struct CommandTable {
  std::unique_ptr<CLI::App> app;  // a stable address: runners refer to it
  std::map<const CLI::App*, CommandRunner> runners;
};

CommandTable make_command_table();

}  // namespace distill::cli
