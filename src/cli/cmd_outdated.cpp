// distill outdated IMAGE|LOCK|SPEC [--json] [--exit-code]: the packages with a
// newer version in their sources, with the changelog's urgency and CVEs in
// between; see check/outdated.hpp. Exit 1 with --exit-code when any is
// outdated; errors exit 2 (its error status in command_table.cpp).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "check/outdated.hpp"
#include "cli/build_options.hpp"
#include "cli/command.hpp"
#include "cli/source_flags.hpp"
#include "debian/architecture.hpp"
#include "debian/releases.hpp"
#include "util/text.hpp"

namespace distill::cli {

namespace {

struct OutdatedFlags {
  std::string subject;
  std::string lock_file;
  std::string sources_file;
  std::string arch;
  std::string release;
  bool json = false;
  bool exit_code = false;
  BuildOptions session;  // --cache-dir, --progress, --refresh, --allow-release-rollback
};

std::string cves_text(const std::vector<std::string>& cves) {
  return cves.empty() ? "-" : util::join(cves, ",");
}

// The table people read: one row per outdated package.
void print_table(const check::OutdatedReport& report) {
  std::printf("%s %s: sources from %s:\n", report.subject_kind.c_str(), report.subject.c_str(),
              report.sources_from.c_str());
  for (const auto& s : report.sources) {
    std::printf("  %s\n", s.c_str());
  }
  if (report.outdated.empty()) {
    std::printf("all %zu packages are up to date\n", report.checked);
  } else {
    std::vector<std::vector<std::string>> rows{
        {"PACKAGE", "INSTALLED", "CANDIDATE", "SUITE", "URGENCY", "CVES"}};
    bool several_archs = report.archs.size() > 1;
    for (const auto& p : report.outdated) {
      rows.push_back({several_archs ? p.name + ":" + p.arch : p.name, p.installed, p.candidate,
                      std::string(debian::to_string(p.kind)) + " (" + p.suite + ")",
                      p.urgency.empty() ? "-" : p.urgency, cves_text(p.cves)});
    }
    std::vector<size_t> widths(rows.front().size(), 0);
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        widths[i] = std::max(widths[i], row[i].size());
      }
    }
    for (const auto& row : rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) {
          line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
      }
      std::printf("%s\n", line.c_str());
    }
    for (const auto& p : report.outdated) {
      if (!p.changelog_note.empty()) {
        std::printf("%s: %s\n", p.name.c_str(), p.changelog_note.c_str());
      }
    }
    std::printf("%zu of %zu packages outdated\n", report.outdated.size(), report.checked);
  }
  if (!report.not_in_sources.empty()) {
    std::printf("not in the sources: %s\n", util::join(report.not_in_sources, ", ").c_str());
  }
}

}  // namespace

CommandRunner register_outdated(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "outdated", "list the packages of an image, lock or spec that have newer versions");
  auto flags = std::make_shared<OutdatedFlags>();
  auto flags_source = std::make_shared<SourceFlags>();
  cmd->add_option("SUBJECT", flags->subject,
                  "image reference (oci:, oci-archive:, docker-archive:, docker://), lock file, "
                  "or spec file or flavor (with --lock)")
      ->required();
  cmd->add_flag("--json", flags->json, "print JSON");
  cmd->add_flag("--exit-code", flags->exit_code, "exit 1 when a package is outdated");
  cmd->add_option("--lock", flags->lock_file, "with a spec: the lock whose packages to check");
  cmd->add_option("--sources", flags->sources_file,
                  "apt sources (.sources or .list) to compare with instead of the recorded or "
                  "host ones");
  cmd->add_option("--release", flags->release,
                  "spec or flavor: the Debian release of its flavors, as build --release (" +
                      debian::buildable_releases_text() + ")");
  cmd->add_option("--arch", flags->arch,
                  "image: the platform; lock, spec: only this arch (Debian name)");
  flags->session.declare_session(*cmd);
  add_source_flags(cmd, *flags_source);
  return [flags, flags_source]() -> Result<int> {
    check::OutdatedRequest request;
    request.subject = flags->subject;
    request.lock_file = flags->lock_file;
    request.sources_file = flags->sources_file;
    request.arch = flags->arch;
    if (!flags->arch.empty()) {  // before a lock or spec is looked up for "amd64,"
      if (auto known = debian::check_architecture(flags->arch); !known.ok()) {
        return make_error(ErrorKind::InvalidInput, "usage: " + known.error().message);
      }
    }
    DISTILL_CHECK(check_release_flag(flags->release));
    request.release = flags->release;
    request.release_max_age = flags->session.refresh ? 0 : request.release_max_age;
    request.allow_release_rollback = flags->session.allow_release_rollback;
    if (const char* root = std::getenv("DISTILL_APT_ROOT"); root != nullptr && *root != '\0') {
      request.apt_root = root;
    }
    DISTILL_TRY(request.image_source, source_options(*flags_source));
    DISTILL_TRY(auto session, BuildSession::open(flags->session));
    DISTILL_TRY(auto report, check::find_outdated(request, session->env()));
    if (flags->json) {
      std::printf("%s\n", check::to_json(report)
                              .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
    } else {
      print_table(report);
    }
    return flags->exit_code && !report.outdated.empty() ? k_exit_failure : k_exit_ok;
  };
}

}  // namespace distill::cli
