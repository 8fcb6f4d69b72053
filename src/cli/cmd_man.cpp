// distill __man DIR (hidden): writes the manual pages into DIR; the build runs it
// after linking so `make install` installs pages that match --help. See
// man_page.hpp.
#include "cli/command.hpp"
#include "cli/man_page.hpp"

namespace distill::cli {

CommandRunner register_man(CLI::App& app) {
  auto* cmd = app.add_subcommand("__man", "write the manual pages into DIR");
  cmd->group("");  // hidden from --help, completions and the pages themselves
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir, "directory for distill.1 and distill-COMMAND.1")->required();
  return [&app, dir]() -> Result<int> {
    DISTILL_CHECK(write_man_pages(app, *dir));
    return k_exit_ok;
  };
}

}  // namespace distill::cli
