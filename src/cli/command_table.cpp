// make_command_table: see command_table.hpp.
#include "cli/command_table.hpp"

#include "cli/help_examples.hpp"

namespace distill::cli {

CommandTable make_command_table() {
  CommandTable table;
  table.app = std::make_unique<CLI::App>(
      "distill: build distroless container images from Debian packages", "distill");
  CLI::App& app = *table.app;
  app.require_subcommand(1);
  app.set_version_flag("--version", k_version);
  app.footer(examples_footer(""));
  auto add = [&](CommandRunner (*registrar)(CLI::App&), int error_status = k_exit_failure) {
    size_t before = app.get_subcommands({}).size();
    CommandRunner runner = registrar(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) {
      CLI::App* sub = subs.back();
      sub->footer(examples_footer(sub->get_name()));
      table.runners[sub] = std::move(runner);
      if (error_status != k_exit_failure) {
        table.error_status[sub] = error_status;
      }
    }
  };
  add(register_build);
  add(register_lock);
  add(register_update);
  add(register_copy);
  add(register_inspect);
  add(register_diff, k_exit_usage);
  add(register_run);
  add(register_audit);
  add(register_sbom);
  add(register_outdated, k_exit_usage);  // exit 1 is an answer: something is outdated
  add(register_test);
  add(register_flavors);
  add(register_completion);
  add(register_man);
  return table;
}

}  // namespace distill::cli
