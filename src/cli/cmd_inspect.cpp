// distill inspect REF [--json] [--packages] [--files] [--top N] [--arch A]: what an
// image is made of (platforms, layers and what they hold, config, packages, the
// largest files, the size of each package, files); see check/inspect.hpp.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "check/image_view.hpp"
#include "check/inspect.hpp"
#include "cli/command.hpp"
#include "cli/source_flags.hpp"

namespace distill::cli {

namespace {

struct InspectFlags {
  std::string ref;
  std::string arch;
  bool json = false;
  bool packages = false;
  bool files = false;
  size_t top = 10;
};

}  // namespace

CommandRunner register_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect",
                                 "show an image's layers, what they hold and where its size goes");
  auto flags = std::make_shared<InspectFlags>();
  auto flags_source = std::make_shared<SourceFlags>();
  add_source_flags(cmd, *flags_source);
  cmd->add_option("REF", flags->ref,
                  "image reference (oci:DIR[:REF], oci-archive:, docker-archive:)")
      ->required();
  cmd->add_flag("--json", flags->json, "print JSON");
  cmd->add_flag("--packages", flags->packages, "print only the installed Debian packages");
  cmd->add_flag("--files", flags->files, "include the merged file list");
  cmd->add_option("--top", flags->top, "how many of the largest files to list (default 10)");
  cmd->add_option("--arch", flags->arch,
                  "platform to show (Debian arch name; default: the host's)");
  return [flags, flags_source]() -> Result<int> {
    DISTILL_TRY(oci::SourceOptions source, source_options(*flags_source));
    DISTILL_TRY(auto opened, check::open_image(flags->ref, flags->arch, source));
    DISTILL_TRY(auto view, check::ImageView::load(*opened, check::inspect_reads));
    check::InspectOptions options;
    options.files = flags->files;
    options.layer_sizes = !flags->packages;
    options.usage = !flags->packages;
    options.largest = flags->top;
    DISTILL_TRY(auto report, check::inspect_image(*opened, view, options));
    if (flags->packages) {
      if (flags->json) {
        nlohmann::json out{{"packages", nlohmann::json::array()}};
        for (const auto& package : report.packages) {
          out["packages"].push_back(check::to_json(package));
        }
        if (flags->files) {
          out["files"] = check::to_json(report)["files"];
        }
        std::printf("%s\n",
                    out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        for (const auto& package : report.packages) {
          std::printf("%s %s %s\n", package.name.c_str(), package.version.c_str(),
                      package.arch.c_str());
        }
      }
      return k_exit_ok;
    }
    if (flags->json) {
      std::printf("%s\n", check::to_json(report)
                              .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
    } else {
      std::fputs(check::to_text(report).c_str(), stdout);
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
