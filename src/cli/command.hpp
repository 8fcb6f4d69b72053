// The command table: each `distill <name>` is one cmd_<name>.cpp that declares
// its flags on a CLI11 subcommand and, when chosen, turns them into a request
// for one core call. Commands return an exit status or an Error; main.cpp is
// the one place that prints errors.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "util/progress.hpp"
#include "util/result.hpp"

namespace distill::cli {

// Exit statuses of the contract.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;

using CommandRunner = std::function<Result<int>()>;

// Each command registers itself on `app` and returns what runs it.
CommandRunner register_build(CLI::App& app);
CommandRunner register_lock(CLI::App& app);
CommandRunner register_update(CLI::App& app);
CommandRunner register_flavors(CLI::App& app);
CommandRunner register_run(CLI::App& app);
CommandRunner register_inspect(CLI::App& app);
CommandRunner register_diff(CLI::App& app);
CommandRunner register_copy(CLI::App& app);
CommandRunner register_audit(CLI::App& app);
CommandRunner register_sbom(CLI::App& app);
CommandRunner register_outdated(CLI::App& app);
CommandRunner register_test(CLI::App& app);
CommandRunner register_prune(CLI::App& app);
CommandRunner register_completion(CLI::App& app);
CommandRunner register_man(CLI::App& app);

// --progress auto|plain|none
util::Progress::Mode parse_progress_mode(const std::string& text);

}  // namespace distill::cli
