// distill build SPEC... [--variant V,...|all] [-o REF]... [--sbom [--sbom-format F]]:
// builds one image per (spec, variant) in one process, writes every output
// (placeholders in REF tell the images apart) and, with --sbom, attaches an
// SBOM to each of them (check/sbom_attach.hpp).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "check/sbom_attach.hpp"
#include "cli/build_options.hpp"
#include "cli/command.hpp"
#include "cli/sbom_flags.hpp"
#include "oci/registry_connection.hpp"
#include "util/interrupt.hpp"

namespace distill::cli {

namespace {

nlohmann::json build_json(const image::BuildResult& result,
                          const std::vector<check::AttachedSbom>& sboms, bool with_sboms) {
  nlohmann::json manifests = nlohmann::json::array();
  for (size_t i = 0; i < result.image.manifests.size(); ++i) {
    const auto& m = result.image.manifests[i];
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& layer : m.layers) {
      layers.push_back({{"digest", layer.descriptor.digest.str()},
                        {"diff_id", layer.diff_id.str()},
                        {"size", layer.descriptor.size},
                        {"uncompressed_size", layer.uncompressed_size}});
    }
    manifests.push_back(
        {{"arch", i < result.archs.size() ? result.archs[i] : m.platform.architecture},
         {"digest", m.manifest_descriptor.digest.str()},
         {"config_digest", m.config_descriptor.digest.str()},
         {"layers", layers}});
  }
  nlohmann::json packages = nlohmann::json::array();
  for (const auto& [arch, list] : result.packages) {
    for (const auto& p : list) {
      packages.push_back(
          {{"name", p.name}, {"version", p.version}, {"arch", p.arch}, {"sha256", p.sha256.hex()}});
    }
  }
  nlohmann::json out = {{"name", result.name},
                        {"tag", result.tag},
                        {"spec", result.spec},
                        {"variant", image::to_string(result.variant)},
                        {"release", result.release},
                        {"index_digest", result.image.index_descriptor.digest.str()},
                        {"manifests", manifests},
                        {"packages", packages},
                        {"outputs", result.outputs_written}};
  if (with_sboms) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& sbom : sboms) {
      list.push_back({{"arch", sbom.arch},
                      {"digest", sbom.digest.str()},
                      {"size", sbom.size},
                      {"media_type", sbom.media_type},
                      {"subject", sbom.subject.str()},
                      {"manifest_digest", sbom.manifest.digest.str()},
                      {"written", sbom.written}});
    }
    out["sboms"] = std::move(list);
  }
  return out;
}

// One line per image once it is built: what, how big, how long.
std::string summary(const image::BuildResult& result,
                    std::chrono::steady_clock::time_point started) {
  uint64_t compressed = 0;
  size_t layers = 0;
  for (const auto& m : result.image.manifests) {
    layers += m.layers.size();
    for (const auto& layer : m.layers) {
      compressed += layer.descriptor.size;
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char line[256];
  std::snprintf(line, sizeof line, "%s:%s: %s, %zu arch%s, %zu layers, %.1f MiB, %.1f s",
                result.name.c_str(), result.tag.c_str(),
                result.image.index_descriptor.digest.str().c_str(), result.archs.size(),
                result.archs.size() == 1 ? "" : "s", layers,
                static_cast<double>(compressed) / (1024.0 * 1024.0), seconds);
  return line;
}

}  // namespace

CommandRunner register_build(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "build an image from a spec or a built-in flavor");
  auto options = std::make_shared<BuildOptions>();
  auto outputs = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  auto sbom = std::make_shared<SbomFlags>();
  auto registry = std::make_shared<image::RegistrySettings>();
  auto tls_verify = std::make_shared<std::string>("true");
  options->declare(*cmd, true);
  cmd->add_option("-o,--output", *outputs,
                  "output reference (oci:, oci-archive:, docker-archive:, docker://)");
  cmd->add_flag("--json", *json, "print the result as JSON on stdout");
  sbom->declare(*cmd);
  cmd->add_option("--dest-creds", registry->credentials, "USER:PASSWORD for docker:// outputs");
  cmd->add_option("--authfile", registry->auth_file, "registry credentials file");
  cmd->add_option("--tls-verify", *tls_verify, "verify registry TLS certificates (true|false)")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--cert-dir", registry->cert_dir,
                  "directory of CA certificates for the registry");
  auto cache_from = std::make_shared<std::string>();
  auto cache_to = std::make_shared<std::string>();
  cmd->add_option("--cache-from", *cache_from,
                  "take missing layers from a layer cache in a registry (docker://REG/REPO[:TAG])");
  cmd->add_option("--cache-to", *cache_to,
                  "push the layers this build used to a layer cache in a registry "
                  "(docker://REG/REPO[:TAG])");
  return [=]() -> Result<int> {
    DISTILL_TRY(const std::optional<check::SbomFormat> sbom_format, sbom->wanted());
    // Every usage error is found before any request is made.
    DISTILL_TRY(auto request, options->to_request());
    start_bringing_in_layer_buffers(*options);
    request.outputs = *outputs;
    request.registry = *registry;
    request.registry.tls_verify = *tls_verify != "false";
    DISTILL_CHECK(oci::check_registry_settings(request.registry));
    request.cache_from = *cache_from;
    request.cache_to = *cache_to;
    // The specs and outputs too, before the cache directory is made.
    DISTILL_TRY(auto prepared, image::prepare_build(request));
    DISTILL_TRY(auto session, BuildSession::open(*options, /*makes_layers=*/true));
    util::catch_interrupts();
    const auto started = std::chrono::steady_clock::now();
    DISTILL_TRY(auto results, image::build_images(request, prepared, session->env()));
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& result : results) {
      std::vector<check::AttachedSbom> sboms;
      if (sbom_format) {
        DISTILL_TRY(sboms, attach_sboms(result, *sbom_format, request.registry, *session));
      }
      if (*json) {
        entries.push_back(build_json(result, sboms, sbom_format.has_value()));
      } else {
        for (const auto& out : result.outputs_written) {
          session->progress().step("wrote " + out + " (" +
                                   result.image.index_descriptor.digest.str() + ")");
        }
        session->progress().step(summary(result, started));
      }
    }
    if (*json) {
      // One object for one image (as before), an array of them for several.
      const auto& doc = entries.size() == 1 ? entries[0] : entries;
      std::printf("%s\n", doc.dump(2).c_str());
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
