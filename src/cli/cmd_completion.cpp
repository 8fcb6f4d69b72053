// distill completion bash|zsh|fish: prints a completion script generated from
// the command tree; see completion.hpp.
#include <cstdio>

#include "cli/command.hpp"
#include "cli/completion.hpp"

namespace distill::cli {

CommandRunner register_completion(CLI::App& app) {
  auto* cmd = app.add_subcommand("completion", "print a shell completion script");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("SHELL", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  return [&app, shell]() -> Result<int> {
    DISTILL_TRY(auto script, completion_script(app, *shell));
    std::fputs(script.c_str(), stdout);
    return k_exit_ok;
  };
}

}  // namespace distill::cli
