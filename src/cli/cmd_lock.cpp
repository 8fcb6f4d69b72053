// distill lock SPEC [-o FILE]: resolves the spec and writes the lock file.
#include <cstdio>

#include "cli/build_options.hpp"
#include "cli/command.hpp"
#include "debian/lock_file.hpp"
#include "util/file_io.hpp"

namespace distill::cli {

CommandRunner register_lock(CLI::App& app) {
  auto* cmd = app.add_subcommand("lock", "resolve a spec and write a lock file");
  auto options = std::make_shared<BuildOptions>();
  auto output = std::make_shared<std::string>();
  options->declare(*cmd, false);
  cmd->add_option("-o,--output", *output, "lock file to write (default: stdout)");
  return [=]() -> Result<int> {
    DISTILL_TRY(auto request, options->to_request());
    // The spec first: an error in it leaves the cache directory unmade.
    DISTILL_TRY(auto chains, image::lock_chains(request));
    DISTILL_TRY(auto session, BuildSession::open(*options));
    DISTILL_TRY(auto lock, image::lock_image(request, chains, session->env()));
    std::string text = debian::to_json(lock);
    if (output->empty()) {
      std::fputs(text.c_str(), stdout);
    } else {
      DISTILL_CHECK(util::write_file_atomic(*output, text));
      session->progress().step("wrote " + *output);
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
