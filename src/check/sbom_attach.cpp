// Attaching SBOMs to the outputs of a build; see sbom_attach.hpp. The referrer
// formats follow OCI image-spec v1.1 (artifact manifests) and distribution-spec
// v1.1 (referrers API and tag schema).
#include "check/sbom_attach.hpp"

#include <optional>

#include "image/outputs.hpp"
#include "oci/image_ref.hpp"
#include "oci/media_types.hpp"
#include "oci/referrer.hpp"
#include "util/file_io.hpp"

namespace distill::check {

namespace {

// The layer files of `manifest`: where the build left them, else (a base image
// read from a temporary directory that is gone) the blobs of an oci: output.
Result<std::vector<std::filesystem::path>> layer_files(const oci::ImageManifest& manifest,
                                                       const std::vector<oci::ImageRef>& refs) {
  std::vector<std::filesystem::path> files;
  for (const auto& layer : manifest.layers) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(layer.file, ec)) {
      files.push_back(layer.file);
      continue;
    }
    std::optional<std::filesystem::path> found;
    for (const auto& ref : refs) {
      if (ref.transport != oci::ImageRef::Transport::OciLayout) {
        continue;
      }
      auto blob = ref.path / "blobs" / "sha256" / layer.descriptor.digest.hex();
      if (std::filesystem::is_regular_file(blob, ec)) {
        found = blob;
        break;
      }
    }
    if (!found) {
      return make_error(ErrorKind::NotFound, "layer " + layer.descriptor.digest.str() + " (" +
                                                 layer.file.string() + ") is no longer on disk");
    }
    files.push_back(*found);
  }
  return files;
}

struct Prepared {
  AttachedSbom info;
  oci::Referrer referrer;
};

}  // namespace

std::string sbom_file_extension(SbomFormat format) {
  return format == SbomFormat::SpdxJson ? ".spdx.json" : ".cdx.json";
}

Result<std::vector<AttachedSbom>> attach_build_sboms(const image::BuildResult& result,
                                                     SbomFormat format,
                                                     const image::RegistrySettings& registry,
                                                     util::Progress& progress) {
  std::vector<oci::ImageRef> refs;
  for (const auto& text : result.outputs_written) {
    DISTILL_TRY(auto ref, oci::ImageRef::parse(text));
    refs.push_back(std::move(ref));
  }
  std::string media_type = sbom_media_type(format);

  std::vector<Prepared> prepared;
  for (size_t i = 0; i < result.image.manifests.size(); ++i) {
    const oci::ImageManifest& manifest = result.image.manifests[i];
    std::string arch = i < result.archs.size() ? result.archs[i] : manifest.platform.architecture;
    std::string what = "SBOM of " + result.name + ":" + result.tag + " (" + arch + ")";
    auto files = layer_files(manifest, refs);
    if (!files.ok()) {
      return files.error().context(what);
    }
    DISTILL_TRY(ImageView view, ImageView::load(*files, what));
    SbomOptions options;
    options.name = result.name + ":" + result.tag;
    auto packages = result.packages.find(arch);
    if (packages != result.packages.end()) {
      for (const auto& package : packages->second) {
        options.deb_sha256[package.name + ":" + package.arch] = package.sha256.hex();
      }
    }
    auto document = make_sbom(view, manifest.config, manifest.manifest_descriptor.digest.str(),
                              format, options);
    if (!document.ok()) {
      return document.error().context(what);
    }
    oci::Artifact artifact;
    artifact.artifact_type = media_type;
    artifact.data = std::move(*document);
    artifact.title = "sbom-" + arch + sbom_file_extension(format);
    if (!manifest.config.created.empty()) {
      artifact.annotations[std::string(oci::k_annotation_created)] = manifest.config.created;
    }
    Prepared entry;
    entry.referrer = oci::make_referrer(manifest.manifest_descriptor, artifact);
    entry.info.arch = arch;
    entry.info.media_type = media_type;
    entry.info.digest = entry.referrer.layer.digest;
    entry.info.size = entry.referrer.layer.size;
    entry.info.subject = manifest.manifest_descriptor.digest;
    entry.info.manifest = entry.referrer.manifest;
    prepared.push_back(std::move(entry));
  }

  std::optional<image::RegistryConnection> connection;
  for (size_t r = 0; r < refs.size(); ++r) {
    const oci::ImageRef& ref = refs[r];
    const std::string& text = result.outputs_written[r];
    std::string what = text + ": attaching the SBOM";
    switch (ref.transport) {
      case oci::ImageRef::Transport::OciLayout: {
        std::vector<oci::Referrer> referrers;
        for (auto& entry : prepared) {
          referrers.push_back(entry.referrer);
          entry.info.written.push_back(text);
        }
        auto added = oci::add_referrers_to_layout(ref.path, referrers);
        if (!added.ok()) {
          return added.error().context(what);
        }
        break;
      }
      case oci::ImageRef::Transport::OciArchive:
      case oci::ImageRef::Transport::DockerArchive: {
        for (auto& entry : prepared) {
          std::filesystem::path file =
              ref.path.string() + "." + entry.info.arch + sbom_file_extension(format);
          auto written = util::write_file_atomic(file, entry.referrer.data);
          if (!written.ok()) {
            return written.error().context(what);
          }
          entry.info.written.push_back(file.string());
        }
        break;
      }
      case oci::ImageRef::Transport::Registry: {
        if (!connection) {
          DISTILL_TRY(auto made, image::connect_registry(registry));
          connection = std::move(made);
        }
        for (auto& entry : prepared) {
          auto attached = connection->client->attach(ref, entry.referrer);
          if (!attached.ok()) {
            return attached.error().context(what);
          }
          entry.info.written.push_back(text);
        }
        break;
      }
    }
    progress.step("attached the SBOM to " + text);
  }

  std::vector<AttachedSbom> attached;
  for (auto& entry : prepared) {
    attached.push_back(std::move(entry.info));
  }
  return attached;
}

}  // namespace distill::check
