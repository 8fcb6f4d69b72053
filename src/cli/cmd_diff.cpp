// distill diff A B [--json] [--platform OS/ARCH]: what differs between two images
// (packages, files, config, layers); see check/image_diff.hpp. Like diff(1): no
// output and exit 0 when they are identical, exit 1 when they differ, exit 2 on
// an error (command_table.cpp registers it so).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "check/image_diff.hpp"
#include "cli/command.hpp"
#include "cli/source_flags.hpp"
#include "oci/descriptor.hpp"

namespace distill::cli {

namespace {

struct DiffFlags {
  std::string a;
  std::string b;
  std::string platform;
  bool json = false;
};

// The Debian architecture that --platform names ("" when not given).
Result<std::string> debian_arch(const std::string& platform) {
  if (platform.empty()) {
    return std::string();
  }
  auto parsed = oci::parse_platform(platform);
  if (!parsed.ok()) {
    return make_error(ErrorKind::InvalidInput, "usage: --platform: " + parsed.error().message);
  }
  if (parsed->os != "linux") {
    return make_error(ErrorKind::InvalidInput,
                      "usage: --platform: only linux images are read (got '" + platform + "')");
  }
  std::string arch = oci::debian_arch_for_platform(*parsed);
  // Images are read by Debian architecture: a platform none stands for
  // (linux/arm/v6) would be taken for another one's (arm/v5).
  const oci::Platform back = oci::platform_for_debian_arch(arch);
  if (arch.empty() || back.architecture != parsed->architecture ||
      (!parsed->variant.empty() && back.variant != parsed->variant)) {
    return make_error(ErrorKind::InvalidInput,
                      "usage: --platform '" + platform + "': no Debian architecture builds for it");
  }
  return arch;
}

}  // namespace

CommandRunner register_diff(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "diff", "show what differs between two images: packages, files, config, layers");
  auto flags = std::make_shared<DiffFlags>();
  auto flags_source = std::make_shared<SourceFlags>();
  add_source_flags(cmd, *flags_source);
  cmd->add_option("A", flags->a, "the first image reference (oci:, oci-archive:, ...)")->required();
  cmd->add_option("B", flags->b, "the second image reference")->required();
  cmd->add_flag("--json", flags->json, "print JSON (also when the images are identical)");
  cmd->add_option("--platform", flags->platform,
                  "platform of multi-platform images, OS/ARCH[/VARIANT] (default: the host's)");
  return [flags, flags_source]() -> Result<int> {
    check::DiffRequest request;
    request.a = flags->a;
    request.b = flags->b;
    DISTILL_TRY(request.debian_arch, debian_arch(flags->platform));
    DISTILL_TRY(request.source, source_options(*flags_source));
    DISTILL_TRY(check::ImageDiff diff, check::diff_images(request));
    if (flags->json) {
      std::printf("%s\n", check::to_json(diff)
                              .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
    } else {
      std::fputs(check::to_text(diff).c_str(), stdout);
    }
    return diff.identical() ? k_exit_ok : k_exit_failure;
  };
}

}  // namespace distill::cli
