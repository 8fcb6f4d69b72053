// Attaching SBOMs to the outputs of a build; see sbom_attach.hpp. The referrer
// formats follow OCI image-spec v1.1 (artifact manifests) and distribution-spec
// v1.1 (referrers API and tag schema).
#include "check/sbom_attach.hpp"

#include <map>
#include <optional>

#include "image/outputs.hpp"
#include "oci/image_ref.hpp"
#include "oci/media_types.hpp"
#include "oci/referrer.hpp"
#include "oci/source.hpp"
#include "util/file_io.hpp"

namespace distill::check {

namespace {

// The layer files of the built image. They are where the build left them,
// except those of a base image read from an archive, whose temporary directory is
// gone once the build returns: those are read back from a written output (an
// oci: layout's blobs directly, else the output loaded again, which keeps its
// own temporary copy alive in `reread`).
class LayerFiles {
 public:
  explicit LayerFiles(const std::vector<std::string>& outputs) : m_outputs(outputs) {}

  Result<std::vector<std::filesystem::path>> for_manifest(const oci::ImageManifest& manifest) {
    std::vector<std::filesystem::path> files;
    for (const auto& layer : manifest.layers) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(layer.file, ec)) {
        files.push_back(layer.file);
        continue;
      }
      DISTILL_TRY(std::filesystem::path found, from_outputs(layer.descriptor.digest));
      files.push_back(found);
    }
    return files;
  }

 private:
  Result<std::filesystem::path> from_outputs(const crypto::Digest& digest) {
    if (!m_loaded) {
      m_loaded = true;
      for (const auto& text : m_outputs) {
        auto loaded = oci::open_image(text, {});
        if (!loaded.ok()) {
          continue;
        }
        for (const auto& manifest : loaded->manifests) {
          for (size_t i = 0; i < manifest.manifest.layers.size() && i < manifest.layer_files.size();
               ++i) {
            m_by_digest.emplace(manifest.manifest.layers[i].digest.str(), manifest.layer_files[i]);
          }
        }
        m_reread.push_back(std::move(*loaded));
        break;
      }
    }
    auto found = m_by_digest.find(digest.str());
    if (found == m_by_digest.end()) {
      return make_error(ErrorKind::NotFound,
                        "layer " + digest.str() + " is neither on disk nor in a written output");
    }
    return found->second;
  }

  const std::vector<std::string>& m_outputs;
  bool m_loaded = false;
  std::vector<oci::LoadedImage> m_reread;
  std::map<std::string, std::filesystem::path> m_by_digest;
};

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
                                                     util::Progress& progress,
                                                     const SbomCache* cache) {
  std::vector<oci::ImageRef> refs;
  for (const auto& text : result.outputs_written) {
    DISTILL_TRY(auto ref, oci::ImageRef::parse(text));
    refs.push_back(std::move(ref));
  }
  std::string media_type = sbom_media_type(format);

  // One SBOM per manifest and output, named after the output (sbom_document_name);
  // each manifest's layers are read once.
  LayerFiles layers(result.outputs_written);
  std::vector<std::vector<Prepared>> prepared(refs.size());  // [output][manifest]
  for (size_t i = 0; i < result.image.manifests.size(); ++i) {
    const oci::ImageManifest& manifest = result.image.manifests[i];
    std::string arch = i < result.archs.size() ? result.archs[i] : manifest.platform.architecture;
    std::string what = "SBOM of " + result.name + ":" + result.tag + " (" + arch + ")";
    SbomOptions options;
    auto packages = result.packages.find(arch);
    if (packages != result.packages.end()) {
      for (const auto& package : packages->second) {
        options.deb_sha256[package.name + ":" + package.arch] = package.sha256.hex();
      }
    }
    std::optional<ImageView> view;  // read only for a document the cache lacks
    std::optional<SbomFileScan> scanned;
    for (size_t r = 0; r < refs.size(); ++r) {
      options.name = sbom_document_name(refs[r]);
      const std::string key =
          cache != nullptr ? cache->key(manifest.manifest_descriptor.digest, format, options) : "";
      std::optional<std::string> document = cache != nullptr ? cache->lookup(key) : std::nullopt;
      if (!document) {
        if (!view) {
          auto files = layers.for_manifest(manifest);
          if (!files.ok()) {
            return files.error().context(what);
          }
          scanned.emplace(manifest.config);
          ImageView::Recall recall;
          if (cache != nullptr) {
            std::vector<crypto::Digest> blobs;
            for (const auto& layer : manifest.layers) {
              blobs.push_back(layer.descriptor.digest);
            }
            recall = cache->views().recall(std::move(blobs), {}, scanned->layers(files->size()));
          }
          DISTILL_TRY(view, ImageView::load(*files, what, sbom_reads, {}, scanned->scan(), recall));
        }
        auto made = make_sbom(*view, manifest.config, manifest.manifest_descriptor.digest.str(),
                              format, options, &*scanned);
        if (!made.ok()) {
          return made.error().context(what);
        }
        document = std::move(*made);
        if (auto kept = cache != nullptr ? cache->store(key, *document) : Status{}; !kept.ok()) {
          return kept.error().context(what);
        }
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
      entry.info.digest = entry.referrer.layers.front().descriptor.digest;
      entry.info.size = entry.referrer.layers.front().descriptor.size;
      entry.info.subject = manifest.manifest_descriptor.digest;
      entry.info.manifest = entry.referrer.manifest;
      prepared[r].push_back(std::move(entry));
    }
  }

  std::optional<image::RegistryConnection> connection;
  for (size_t r = 0; r < refs.size(); ++r) {
    const oci::ImageRef& ref = refs[r];
    const std::string& text = result.outputs_written[r];
    std::string what = text + ": attaching the SBOM";
    switch (ref.transport) {
      case oci::ImageRef::Transport::OciLayout: {
        std::vector<oci::Referrer> referrers;
        for (auto& entry : prepared[r]) {
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
        for (auto& entry : prepared[r]) {
          std::filesystem::path file =
              ref.path.string() + "." + entry.info.arch + sbom_file_extension(format);
          auto written = util::write_file_atomic(file, entry.referrer.layers.front().data);
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
        for (auto& entry : prepared[r]) {
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
  for (auto& output : prepared) {
    for (auto& entry : output) {
      attached.push_back(std::move(entry.info));
    }
  }
  return attached;
}

}  // namespace distill::check
