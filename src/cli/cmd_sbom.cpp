// distill sbom REF [--format spdx-json|cyclonedx-json] [-o FILE] [--arch A]: an SBOM
// of the image's Debian packages and spec files; see check/sbom.hpp.
#include <cstdio>

#include "check/image_view.hpp"
#include "check/sbom.hpp"
#include "cli/command.hpp"
#include "cli/source_flags.hpp"
#include "oci/image_ref.hpp"
#include "util/file_io.hpp"

namespace distill::cli {

namespace {

struct SbomCommandFlags {
  std::string ref;
  std::string arch;
  std::string format = "spdx-json";
  std::string output;
};

}  // namespace

CommandRunner register_sbom(CLI::App& app) {
  auto* cmd = app.add_subcommand("sbom", "write an SPDX or CycloneDX SBOM of an image");
  auto flags = std::make_shared<SbomCommandFlags>();
  auto flags_source = std::make_shared<SourceFlags>();
  add_source_flags(cmd, *flags_source);
  cmd->add_option("REF", flags->ref, "image reference")->required();
  cmd->add_option("--format", flags->format, "spdx-json (default) or cyclonedx-json");
  cmd->add_option("-o,--output", flags->output, "write to FILE instead of stdout");
  cmd->add_option("--arch", flags->arch, "platform (Debian arch name; default: the host's)");
  return [flags, flags_source]() -> Result<int> {
    auto format = check::parse_sbom_format(flags->format);
    if (!format.ok()) {
      return make_error(ErrorKind::InvalidInput, "usage: " + format.error().message);
    }
    DISTILL_TRY(oci::SourceOptions source, source_options(*flags_source));
    DISTILL_TRY(auto opened, check::open_image(flags->ref, flags->arch, source));
    check::SbomFileScan scanned(opened->manifest->config);
    DISTILL_TRY(auto view, check::ImageView::load(*opened, check::sbom_reads, scanned.scan()));
    DISTILL_TRY(auto ref, oci::ImageRef::parse(flags->ref));
    check::SbomOptions options;
    options.name = check::sbom_document_name(ref);
    DISTILL_TRY(std::string document, check::make_sbom(view, opened->manifest->config,
                                                       opened->manifest->descriptor.digest.str(),
                                                       *format, options, &scanned));
    if (flags->output.empty() || flags->output == "-") {
      std::fputs(document.c_str(), stdout);
    } else {
      DISTILL_CHECK(util::write_file_atomic(flags->output, document));
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
