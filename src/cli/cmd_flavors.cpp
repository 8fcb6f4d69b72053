// distill flavors: lists the built-in flavors and the releases each exists for.
#include <cstdio>

#include "cli/command.hpp"
#include "image/flavors.hpp"

namespace distill::cli {

CommandRunner register_flavors(CLI::App& app) {
  app.add_subcommand("flavors", "list the built-in flavors and their Debian releases");
  return []() -> Result<int> {
    std::printf("%-12s %-17s %s\n", "FLAVOR", "RELEASES", "DESCRIPTION (newest release)");
    for (const auto& name : image::flavor_names()) {
      std::string releases;
      for (const auto& release : image::flavor_releases(name)) {
        releases += (releases.empty() ? "" : ",") + release;
      }
      const auto* newest = image::find_flavor(name, image::flavor_releases(name).back());
      std::printf("%-12s %-17s %s\n", name.c_str(), releases.c_str(), newest->description.c_str());
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
