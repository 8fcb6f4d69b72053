// make_command_table: see command_table.hpp.
#include "cli/command_table.hpp"

#include <algorithm>
#include <array>

#include "cli/help_examples.hpp"

namespace distill::cli {

namespace {

struct CommandEntry {
  std::string_view name;  // what the registrar names its subcommand
  CommandRunner (*registrar)(CLI::App&);
  int error_status = k_exit_failure;
};

// In the order `distill --help` lists them.
constexpr std::array k_commands{
    CommandEntry{"build", register_build},
    CommandEntry{"lock", register_lock},
    CommandEntry{"update", register_update},
    CommandEntry{"copy", register_copy},
    CommandEntry{"inspect", register_inspect},
    CommandEntry{"diff", register_diff, k_exit_usage},
    CommandEntry{"run", register_run},
    CommandEntry{"audit", register_audit},
    CommandEntry{"sbom", register_sbom},
    // Exit 1 is an answer: something is outdated.
    CommandEntry{"outdated", register_outdated, k_exit_usage},
    CommandEntry{"test", register_test},
    CommandEntry{"prune", register_prune},
    CommandEntry{"flavors", register_flavors},
    // These two walk the whole tree: never registered alone.
    CommandEntry{"completion", register_completion},
    CommandEntry{"__man", register_man},
};

// Whether `name` is a command registered alone when argv[1] names it.
bool registered_alone(std::string_view name) {
  return name != "completion" && name != "__man" &&
         std::any_of(k_commands.begin(), k_commands.end(),
                     [&](const CommandEntry& entry) { return entry.name == name; });
}

}  // namespace

std::vector<std::string_view> command_names() {
  std::vector<std::string_view> names;
  names.reserve(k_commands.size());
  for (const auto& entry : k_commands) {
    names.push_back(entry.name);
  }
  return names;
}

CommandTable make_command_table(std::string_view only) {
  const bool alone = registered_alone(only);
  CommandTable table;
  table.app = std::make_unique<CLI::App>(
      "distill: build distroless container images from Debian packages", "distill");
  CLI::App& app = *table.app;
  app.require_subcommand(1);
  app.set_version_flag("--version", k_version);
  if (!alone) {
    app.footer(examples_footer(""));  // printed by `distill --help` alone
  }
  for (const auto& entry : k_commands) {
    if (alone && entry.name != only) {
      continue;
    }
    size_t before = app.get_subcommands({}).size();
    CommandRunner runner = entry.registrar(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) {
      CLI::App* sub = subs.back();
      sub->footer(examples_footer(sub->get_name()));
      table.runners[sub] = std::move(runner);
      if (entry.error_status != k_exit_failure) {
        table.error_status[sub] = entry.error_status;
      }
    }
  }
  return table;
}

}  // namespace distill::cli
