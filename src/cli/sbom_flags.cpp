// SbomFlags: see sbom_flags.hpp.
#include "cli/sbom_flags.hpp"

#include "check/sbom_cache.hpp"

namespace distill::cli {

void SbomFlags::declare(CLI::App& cmd) {
  cmd.add_flag("--sbom", sbom,
               "attach an SBOM of each architecture to every output (OCI referrer)");
  cmd.add_option("--sbom-format", format, "spdx-json (default) or cyclonedx-json; implies --sbom");
}

Result<std::optional<check::SbomFormat>> SbomFlags::wanted() const {
  auto parsed = check::parse_sbom_format(format.empty() ? "spdx-json" : format);
  if (!parsed.ok()) {
    return make_error(ErrorKind::InvalidInput, "usage: --sbom-format: " + parsed.error().message);
  }
  if (!sbom && format.empty()) {
    return std::optional<check::SbomFormat>{};
  }
  return std::optional<check::SbomFormat>{*parsed};
}

Result<std::vector<check::AttachedSbom>> attach_sboms(const image::BuildResult& result,
                                                      check::SbomFormat format,
                                                      const image::RegistrySettings& registry,
                                                      BuildSession& session) {
  const check::SbomCache cache(session.env().cache.dir());
  auto attached = check::attach_build_sboms(result, format, registry, session.progress(), &cache);
  if (!attached.ok()) {
    return attached.error().context(result.name + ":" + result.tag);
  }
  return attached;
}

}  // namespace distill::cli
