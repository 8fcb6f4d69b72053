#include "cli/main.hpp"

#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/build_options.hpp"
#include "cli/command.hpp"
#include "cli/command_table.hpp"
#include "cli/did_you_mean.hpp"
#include "util/interrupt.hpp"
#include "util/interrupt_cleanup.hpp"

namespace distill::cli {

util::Progress::Mode parse_progress_mode(const std::string& text) {
  if (text == "plain") {
    return util::Progress::Mode::Plain;
  }
  if (text == "none") {
    return util::Progress::Mode::None;
  }
  return util::Progress::Mode::Auto;
}

namespace {

int print_error(const std::string& message, int status) {
  std::fprintf(stderr, "distill: error: %s\n", message.c_str());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // Temporaries (blobs, archives, run bundles) go with the process on Ctrl-C.
  util::install_interrupt_cleanup();
  std::signal(SIGPIPE, SIG_IGN);
  CommandTable table =
      make_command_table(argc > 1 ? std::string_view(argv[1]) : std::string_view());
  CLI::App& app = *table.app;
  auto& commands = table.runners;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string unknown = unknown_name_error(app, std::vector<std::string>(argv + 1, argv + argc));
    return print_error(unknown.empty() ? e.what() : unknown, k_exit_usage);
  }
  for (auto& [sub, runner] : commands) {
    if (sub->parsed()) {
      auto custom = table.error_status.find(sub);
      const int failure = custom != table.error_status.end() ? custom->second : k_exit_failure;
      struct PoolStop {
        ~PoolStop() { stop_process_pool(); }
      } pool_stop;
      try {
        auto status = runner();
        if (!status.ok() && util::interrupted()) {
          // What failed is the stop the user asked for (a command that
          // called util::catch_interrupts), not worth an error of its own.
          std::fprintf(stderr, "distill: interrupted\n");
          return 128 + util::interrupt_signal();
        }
        if (!status.ok()) {
          const Error& error = status.error();
          const bool usage =
              error.kind == ErrorKind::InvalidInput && error.message.rfind("usage:", 0) == 0;
          return print_error(error.message, usage                    ? k_exit_usage
                                            : error.exit_status != 0 ? error.exit_status
                                                                     : failure);
        }
        return *status;
      } catch (const std::exception& e) {
        return print_error(std::string("internal error: ") + e.what(), failure);
      }
    }
  }
  return print_error("no command given (see distill --help)", k_exit_usage);
}

}  // namespace distill::cli
