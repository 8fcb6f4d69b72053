// Every `distill` command on one CLI11 tree, with its runner: what main() parses
// and dispatches, and what the completion scripts and manual pages walk. Each
// command's --help ends with its examples (help_examples.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

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

// Every command; or, when `only` names one (main() passes argv[1]), that one
// alone: making all fourteen took 0.4 ms, a tenth of a no-op build. Any other
// `only` (empty, an option, a misspelt name, and `completion` and `__man`,
// which walk the tree) gives every command, so that help, "did you mean" and
// the completion scripts see them all.
CommandTable make_command_table(std::string_view only = {});

// The names of every command, in the order `distill --help` lists them.
std::vector<std::string_view> command_names();

}  // namespace distill::cli
