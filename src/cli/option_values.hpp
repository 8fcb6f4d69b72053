// What a command-line argument takes, for the generated shell completions and
// manual pages: nothing (a flag), one of a fixed set of words (variants,
// compression, formats, flavor names...), an image reference (the transports
// oci:, oci-archive:, docker-archive:, docker://), a file or a directory.
// Derived from the CLI11 definitions themselves (IsMember checks, option names)
// plus the domain lists (built-in flavors, variants, Debian architectures), so
// completions cannot drift from the parser.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace distill::cli {

enum class ValueKind {
  None,       // a flag
  Words,      // one of `words`
  Reference,  // an image reference: `words` are the transports
  Spec,       // a spec file or a built-in flavor (`words`)
  File,
  Directory,
  Text,  // anything (a tag, credentials, a number)
};

struct OptionValues {
  ValueKind kind = ValueKind::Text;
  std::vector<std::string> words;
};

// The image reference transports, as typed before the location.
const std::vector<std::string>& reference_transports();

// The values of `option` of the subcommand `command` ("build", "inspect", ...).
OptionValues option_values(const std::string& command, const CLI::Option& option);

// The options of `app` a user may type, the --help flag included, positionals
// last (in declaration order).
std::vector<const CLI::Option*> visible_options(const CLI::App& app);

// The subcommands shown in help (hidden ones, in the "" group, left out).
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app);

// Every name of an option ("-o", "--output"), short names first.
std::vector<std::string> option_names(const CLI::Option& option);

}  // namespace distill::cli
