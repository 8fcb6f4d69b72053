// The --sbom and --sbom-format flags of the commands that write images
// (`build`, `update`), and attaching the SBOMs they ask for to what a build
// wrote (check/sbom_attach.hpp), with the session's cache keeping them.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "check/sbom_attach.hpp"
#include "cli/build_options.hpp"
#include "image/build.hpp"
#include "util/result.hpp"

namespace distill::cli {

struct SbomFlags {
  bool sbom = false;
  std::string format;  // --sbom-format; implies --sbom

  void declare(CLI::App& cmd);
  // The format asked for; nullopt when no SBOM is. An unknown format is a
  // usage error.
  [[nodiscard]] Result<std::optional<check::SbomFormat>> wanted() const;
};

// Attaches an SBOM of each architecture of `result` to each of its outputs,
// the documents kept in `session`'s cache; errors name the image.
Result<std::vector<check::AttachedSbom>> attach_sboms(const image::BuildResult& result,
                                                      check::SbomFormat format,
                                                      const image::RegistrySettings& registry,
                                                      BuildSession& session);

}  // namespace distill::cli
