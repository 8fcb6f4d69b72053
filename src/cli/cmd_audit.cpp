// distill audit REF [--json] [--arch A]: distroless property checks (contract
// "audit"); one line per finding, exit 1 if any. See check/audit.hpp.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "check/audit.hpp"
#include "check/json_text.hpp"
#include "cli/command.hpp"
#include "cli/source_flags.hpp"

namespace distill::cli {

namespace {

struct AuditFlags {
  std::string ref;
  std::string arch;
  bool json = false;
};

nlohmann::json findings_json(const std::vector<check::Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& finding : findings) {
    out.push_back({{"check", finding.check},
                   {"path", check::json_text(finding.path)},
                   {"message", check::json_text(finding.message)}});
  }
  return out;
}

}  // namespace

CommandRunner register_audit(CLI::App& app) {
  auto* cmd = app.add_subcommand("audit", "check an image for distroless properties");
  auto flags = std::make_shared<AuditFlags>();
  auto flags_source = std::make_shared<SourceFlags>();
  add_source_flags(cmd, *flags_source);
  cmd->add_option("REF", flags->ref, "image reference")->required();
  cmd->add_flag("--json", flags->json, "print the findings as JSON");
  cmd->add_option("--arch", flags->arch,
                  "platform to audit (Debian arch name; default: the host's)");
  return [flags, flags_source]() -> Result<int> {
    DISTILL_TRY(oci::SourceOptions source, source_options(*flags_source));
    DISTILL_TRY(auto opened, check::open_image(flags->ref, flags->arch, source));
    DISTILL_TRY(auto report, check::audit_image(*opened));
    if (flags->json) {
      nlohmann::json out{{"image", flags->ref},
                         {"platform", opened->manifest->platform.str()},
                         {"passed", report.passed()},
                         {"findings", findings_json(report.findings)},
                         {"expected", findings_json(report.expected)},
                         {"warnings", findings_json(report.warnings)}};
      std::printf("%s\n",
                  out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      for (const auto& finding : report.findings) {
        std::printf("%s\n", check::format_finding(finding).c_str());
      }
      for (const auto& finding : report.expected) {
        std::printf("expected: %s\n", check::format_finding(finding).c_str());
      }
      for (const auto& finding : report.warnings) {
        std::printf("warning: %s\n", check::format_finding(finding).c_str());
      }
    }
    return report.passed() ? k_exit_ok : k_exit_failure;
  };
}

}  // namespace distill::cli
