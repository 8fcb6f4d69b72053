// distill copy SRC DST [--referrers]: copies an image between transports (oci:,
// oci-archive:, docker-archive:, docker://), keeping its manifests byte for
// byte, and with --referrers the artifacts referring to it, e.g. its SBOMs
// (oci/referrer_copy.hpp). Ctrl-C stops it where it is, as it stops a build.
#include "check/image_view.hpp"
#include "cli/command.hpp"
#include "debian/architecture.hpp"
#include "image/outputs.hpp"
#include "oci/credentials.hpp"
#include "oci/referrer_copy.hpp"
#include "oci/registry_connection.hpp"
#include "oci/source.hpp"
#include "util/interrupt.hpp"

namespace distill::cli {

namespace {

// "host/repo:tag" -> {"host/repo", "tag"}; the tag is after the last ':' that
// follows the last '/'.
std::pair<std::string, std::string> split_repo_tag(const std::string& repo_tag) {
  size_t slash = repo_tag.rfind('/');
  size_t colon = repo_tag.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    return {repo_tag, ""};
  }
  return {repo_tag.substr(0, colon), repo_tag.substr(colon + 1)};
}

}  // namespace

CommandRunner register_copy(CLI::App& app) {
  auto* cmd = app.add_subcommand("copy", "copy an image from one reference to another");
  struct Options {
    std::string source;
    std::string destination;
    std::string src_creds;
    image::RegistrySettings registry;
    std::string tls_verify = "true";
    std::string progress = "auto";
    std::string arch;
    bool referrers = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("SRC", o->source, "source image reference")->required();
  cmd->add_option("DST", o->destination, "destination image reference")->required();
  cmd->add_option("--src-creds", o->src_creds, "USER:PASSWORD for a docker:// source");
  cmd->add_option("--dest-creds", o->registry.credentials,
                  "USER:PASSWORD for a docker:// destination");
  cmd->add_option("--authfile", o->registry.auth_file, "registry credentials file");
  cmd->add_option("--tls-verify", o->tls_verify, "verify registry TLS certificates")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--cert-dir", o->registry.cert_dir, "CA certificates for the registry");
  cmd->add_option("--progress", o->progress, "auto|plain|none");
  cmd->add_option("--arch", o->arch,
                  "copy only this platform of a multi-platform image (Debian arch name; "
                  "default: all of them, or the host's into a docker-archive)");
  cmd->add_flag("--referrers", o->referrers,
                "also copy the artifacts that refer to the image, e.g. its SBOMs (into oci: "
                "layouts and registries)");
  return [o]() -> Result<int> {
    util::Progress progress(parse_progress_mode(o->progress));
    o->registry.tls_verify = o->tls_verify != "false";
    oci::SourceOptions source;
    if (!o->src_creds.empty()) {
      DISTILL_TRY(source.registry.credentials, oci::parse_credentials(o->src_creds, "--src-creds"));
    }
    source.registry.auth_file = o->registry.auth_file;
    source.registry.tls_verify = o->registry.tls_verify;
    source.cert_dir = o->registry.cert_dir;
    // Usage errors first, before the source is read.
    auto destination = oci::ImageRef::parse(o->destination);
    if (!destination.ok()) {
      return make_error(ErrorKind::InvalidInput, "usage: " + destination.error().message);
    }
    if (auto source_ref = oci::ImageRef::parse(o->source); !source_ref.ok()) {
      return make_error(ErrorKind::InvalidInput, "usage: " + source_ref.error().message);
    }
    if (auto writable = oci::check_destination(*destination); !writable.ok()) {
      return make_error(ErrorKind::InvalidInput, "usage: " + writable.error().message);
    }
    if (o->referrers) {
      if (auto holds = oci::check_referrers_destination(*destination); !holds.ok()) {
        return make_error(ErrorKind::InvalidInput, "usage: " + holds.error().message);
      }
    }
    if (!o->arch.empty()) {
      if (auto known = debian::check_architecture(o->arch); !known.ok()) {
        return make_error(ErrorKind::InvalidInput, "usage: " + known.error().message);
      }
      // Of a registry index, only that platform's blobs are fetched.
      source.pull.platform = oci::platform_for_debian_arch(o->arch);
    }
    DISTILL_CHECK(oci::check_registry_settings(o->registry));
    // Ctrl-C (SIGINT, SIGTERM, SIGHUP) as in build: the transfer or the copy
    // under way stops, its temporaries go with their owners, and main says
    // "interrupted" and exits 128 + the signal (it used to die by the signal).
    util::catch_interrupts();
    // Into a registry, each layer is hashed as it is uploaded (or not read at
    // all when the registry has it), so opening the source only checks sizes.
    if (destination->transport == oci::ImageRef::Transport::Registry) {
      source.layers = oci::LayerCheck::Size;
    }
    progress.step("reading " + o->source);
    DISTILL_TRY(auto loaded, oci::open_image(o->source, source));
    // One platform, when asked for, or when the destination holds only one
    // (a docker-archive: the host's, as skopeo picks it).
    const bool one_platform = destination->transport == oci::ImageRef::Transport::DockerArchive;
    if (!o->arch.empty() || (one_platform && loaded.manifests.size() > 1)) {
      DISTILL_CHECK(check::keep_one_platform(loaded, o->arch));
    }
    DISTILL_CHECK(util::check_interrupted());  // nothing is written after a stop
    DISTILL_TRY(auto image, image::image_from_loaded(loaded));
    // A docker-archive destination without NAME:TAG keeps the source's name;
    // a source without one gives an archive without RepoTags (as skopeo does).
    auto [name, tag] = split_repo_tag(loaded.repo_tag);
    if (tag.empty()) {
      tag = "latest";
    }
    DISTILL_TRY(auto written,
                image::write_outputs(image, {o->destination}, {name, tag}, o->registry, progress));
    (void)written;
    if (o->referrers) {
      DISTILL_TRY(oci::ImageRef from, oci::ImageRef::parse(o->source));
      DISTILL_TRY(auto found, oci::find_referrers(from, oci::referrer_subjects(loaded), source));
      for (const auto& skipped : found.skipped) {
        progress.warn("referrer not copied: " + skipped);
      }
      DISTILL_CHECK(oci::put_referrers(*destination, found.referrers, o->registry));
      progress.step("copied " + std::to_string(found.referrers.size()) + " referrer" +
                    (found.referrers.size() == 1 ? "" : "s"));
    }
    return k_exit_ok;
  };
}

}  // namespace distill::cli
