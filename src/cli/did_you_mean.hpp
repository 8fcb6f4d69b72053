// "did you mean ...?" for a command line the parser rejected: an unknown
// subcommand gets the nearest subcommand, an unknown --flag the nearest flag of
// its command (util::nearest_word), as git and cargo do.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace distill::cli {

// The error to print for `args` (argv without the program name) when they name a
// subcommand or a long option that `app` does not have, with the nearest known
// name when one is close: "unknown command 'biuld' (did you mean 'build'?)",
// "build: unknown option '--varient' (did you mean '--variant'?)". "" when every
// subcommand and long option is known (the parser's own message then says more).
std::string unknown_name_error(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace distill::cli
