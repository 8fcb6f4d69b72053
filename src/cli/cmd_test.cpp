// distill test REF --config FILE... [--output text|json|junit] [--arch A]
// [--progress auto|plain|none]: container-structure-test configs against an
// image; exit 1 on any failure or when no test ran. Tests a schemaVersion 1.0.0
// config skips are named on stderr. See check/structure_test.hpp.
#include <cstdio>

#include "check/container_exec.hpp"
#include "check/image_view.hpp"
#include "check/structure_test.hpp"
#include "cli/command.hpp"
#include "cli/source_flags.hpp"

namespace distill::cli {

namespace {

struct TestFlags {
  std::string ref;
  std::string arch;
  std::vector<std::string> configs;
  std::string output = "text";
  std::string progress = "auto";
};

}  // namespace

CommandRunner register_test(CLI::App& app) {
  auto* cmd = app.add_subcommand("test", "run container-structure-test configs against an image");
  auto flags = std::make_shared<TestFlags>();
  auto flags_source = std::make_shared<SourceFlags>();
  add_source_flags(cmd, *flags_source);
  cmd->add_option("REF", flags->ref, "image reference")->required();
  cmd->add_option("-c,--config", flags->configs, "structure-test config (YAML), repeatable")
      ->required();
  cmd->add_option("--output", flags->output, "text (default), json or junit");
  cmd->add_option("--arch", flags->arch, "platform (Debian arch name; default: the host's)");
  cmd->add_option("--progress", flags->progress, "auto|plain|none");
  return [flags, flags_source]() -> Result<int> {
    if (flags->output != "text" && flags->output != "json" && flags->output != "junit") {
      return make_error(
          ErrorKind::InvalidInput,
          "usage: --output must be text, json or junit, not \"" + flags->output + "\"");
    }
    std::vector<check::StructureTestConfig> configs;
    for (const auto& path : flags->configs) {
      DISTILL_TRY(auto config, check::load_structure_test(path));
      configs.push_back(std::move(config));
    }
    DISTILL_TRY(oci::SourceOptions source, source_options(*flags_source));
    DISTILL_TRY(auto opened, check::open_image(flags->ref, flags->arch, source));
    DISTILL_TRY(auto view, check::ImageView::load(*opened, check::structure_test_reads(configs)));
    util::Progress progress(parse_progress_mode(flags->progress));
    check::BundleExecutor executor(opened->manifest->layer_files, opened->manifest->config,
                                   progress, check::BundleExecutor::Method::Overlay, flags->ref);
    check::TestReport report;
    for (const auto& config : configs) {
      check::TestReport part =
          check::run_structure_tests(config, view, opened->manifest->config, &executor);
      report.results.insert(report.results.end(), part.results.begin(), part.results.end());
      report.notes.insert(report.notes.end(), part.notes.begin(), part.notes.end());
      report.seconds += part.seconds;
    }
    for (const auto& note : report.notes) {
      std::fprintf(stderr, "distill: %s\n", note.c_str());
    }
    std::string text = flags->output == "json"    ? check::report_json(report)
                       : flags->output == "junit" ? check::report_junit(report)
                                                  : check::report_text(report);
    std::fputs(text.c_str(), stdout);
    return report.passed() ? k_exit_ok : k_exit_failure;
  };
}

}  // namespace distill::cli
