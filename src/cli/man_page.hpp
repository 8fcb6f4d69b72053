// Manual pages in troff (man(7) macros), generated from the same CLI11
// definitions as --help plus the help examples: distill(1) lists the commands,
// distill-<command>(1) gives a command's synopsis, arguments, options and
// examples. Written at build time by the hidden `distill __man DIR`. The pages
// carry no date, so the same sources give the same bytes.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace distill::cli {

// distill(1) for the top-level `app`.
std::string man_page(const CLI::App& app);
// distill-<command>(1) for one subcommand of `app`.
std::string man_page(const CLI::App& app, const CLI::App& command);

// Writes distill.1 and distill-<command>.1 for every visible command into `dir`
// (created if missing), each atomically.
Status write_man_pages(const CLI::App& app, const std::filesystem::path& dir);

}  // namespace distill::cli
