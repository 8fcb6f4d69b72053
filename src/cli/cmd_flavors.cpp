// distill flavors: lists the built-in flavors.
#include <cstdio>

#include "cli/command.hpp"
#include "image/flavors.hpp"

namespace distill::cli {

CommandRunner register_flavors(CLI::App& app) {
  app.add_subcommand("flavors", "list the built-in flavors");
  return []() -> Result<int> {
    for (const auto& flavor : image::builtin_flavors()) {
      std::printf("%-12s %s\n", flavor.name.c_str(), flavor.description.c_str());
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
