#include "cli/main.hpp"

#include <csignal>
#include <cstdio>
#include <map>

#include "cli/command.hpp"
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
  CLI::App app{"distill: build distroless container images from Debian packages", "distill"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "distill 0.1.0");
  std::map<CLI::App*, CommandRunner> commands;
  auto add = [&](CommandRunner (*registrar)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    CommandRunner runner = registrar(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) {
      commands[subs.back()] = std::move(runner);
    }
  };
  add(register_build);
  add(register_lock);
  add(register_copy);
  add(register_inspect);
  add(register_run);
  add(register_audit);
  add(register_sbom);
  add(register_test);
  add(register_flavors);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return print_error(e.what(), k_exit_usage);
  }
  for (auto& [sub, runner] : commands) {
    if (sub->parsed()) {
      try {
        auto status = runner();
        if (!status.ok()) {
          return print_error(status.error().message,
                             status.error().kind == ErrorKind::InvalidInput &&
                                     status.error().message.rfind("usage:", 0) == 0
                                 ? k_exit_usage
                                 : k_exit_failure);
        }
        return *status;
      } catch (const std::exception& e) {
        return print_error(std::string("internal error: ") + e.what(), k_exit_failure);
      }
    }
  }
  return print_error("no command given (see distill --help)", k_exit_usage);
}

}  // namespace distill::cli
