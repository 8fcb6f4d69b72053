#include "image/outputs.hpp"

#include "oci/archive_writer.hpp"
#include "oci/image_ref.hpp"
#include "oci/layout_writer.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/registry_client.hpp"
#include "oci/source.hpp"

namespace distill::image {

namespace {

Result<crypto::Digest> push(const oci::Image& image, const oci::ImageRef& ref,
                            const RegistrySettings& settings, util::Progress& progress) {
  DISTILL_TRY(auto connection, connect_registry(settings));
  DISTILL_TRY(crypto::Digest digest, connection.client->push(image, ref));
  const oci::PushStats& stats = connection.client->push_stats();
  progress.step("pushed " + ref.to_string() + " (" + digest.str() + "; " +
                std::to_string(stats.blobs_uploaded) + " blobs, " +
                std::to_string(stats.blob_bytes_uploaded) + " bytes uploaded, " +
                std::to_string(stats.blobs_present) + " already there" +
                (stats.upload_restarts > 0
                     ? ", " + std::to_string(stats.upload_restarts) + " uploads restarted"
                     : std::string()) +
                ")");
  return digest;
}

// An OCI layout's index.json can only point at OCI manifests and indexes: a
// Docker manifest (copied from a registry) is put under an OCI index there.
oci::Image for_oci_layout(const oci::Image& image) {
  if (image.index_descriptor.media_type != oci::k_media_docker_manifest) {
    return image;
  }
  oci::Image wrapped = image;
  oci::Index index;
  for (const auto& entry : image.manifests) {
    index.manifests.push_back(entry.manifest_descriptor);
  }
  wrapped.index_json = index.to_json();
  wrapped.index_descriptor = oci::describe(wrapped.index_json, std::string(oci::k_media_oci_index));
  return wrapped;
}

}  // namespace

Result<std::vector<std::string>> write_outputs(const oci::Image& image,
                                               const std::vector<std::string>& outputs,
                                               const OutputDefaults& defaults,
                                               const RegistrySettings& registry,
                                               util::Progress& progress,
                                               const OutputStaging* staging) {
  std::vector<std::string> written;
  for (const auto& text : outputs) {
    DISTILL_TRY(auto ref, oci::ImageRef::parse(text));
    std::string tag = ref.tag.empty() ? defaults.tag : ref.tag;
    progress.step("writing " + text);
    switch (ref.transport) {
      case oci::ImageRef::Transport::OciLayout:
        if (Status wrote =
                oci::write_oci_layout(ref.path, for_oci_layout(image), tag,
                                      staging != nullptr ? staging->find(ref.path) : nullptr);
            !wrote.ok()) {
          return wrote.error().context(text);  // the output, not only its temporary
        }
        break;
      case oci::ImageRef::Transport::OciArchive:
        if (Status wrote = oci::write_oci_archive(ref.path, for_oci_layout(image), tag);
            !wrote.ok()) {
          return wrote.error().context(text);
        }
        break;
      case oci::ImageRef::Transport::DockerArchive: {
        if (image.manifests.size() != 1) {
          return make_error(
              ErrorKind::InvalidInput,
              text + ": a docker-archive holds one platform; build one --arch for it");
        }
        std::string name = ref.name.empty() ? defaults.name : ref.name;
        if (Status wrote =
                oci::write_docker_archive(ref.path, image, name, tag, image.manifests[0].platform);
            !wrote.ok()) {
          return wrote.error().context(text);
        }
        break;
      }
      case oci::ImageRef::Transport::Registry: {
        DISTILL_TRY(auto digest, push(image, ref, registry, progress));
        (void)digest;
        break;
      }
    }
    written.push_back(text);
  }
  return written;
}

Result<oci::Image> image_from_loaded(const oci::LoadedImage& loaded) {
  oci::Image image;
  oci::Index index;
  for (const auto& m : loaded.manifests) {
    oci::ImageManifest out;
    out.platform = m.platform;
    out.config = m.config;
    out.config_json = m.config_json;
    out.config_descriptor = m.manifest.config;
    out.manifest_json = m.manifest_json;
    out.manifest_descriptor = m.descriptor;
    out.manifest_descriptor.platform = m.platform;
    // The source's own name for it (a layout's ref) is not part of the image.
    out.manifest_descriptor.annotations.erase(std::string(oci::k_annotation_ref_name));
    if (m.layer_files.size() != m.manifest.layers.size()) {
      return make_error(ErrorKind::Corrupt, "image manifest " + m.descriptor.digest.str() +
                                                ": layer files do not match its layers");
    }
    for (size_t i = 0; i < m.manifest.layers.size(); ++i) {
      oci::LayerBlob blob;
      blob.descriptor = m.manifest.layers[i];
      blob.file = m.layer_files[i];
      if (i < m.config.diff_ids.size()) {
        blob.diff_id = m.config.diff_ids[i];
      }
      out.layers.push_back(std::move(blob));
    }
    index.manifests.push_back(out.manifest_descriptor);
    image.manifests.push_back(std::move(out));
  }
  if (!loaded.index_json.empty() && loaded.index_descriptor) {
    image.index_json = loaded.index_json;
    image.index_descriptor = *loaded.index_descriptor;
    image.index_descriptor.annotations.erase(std::string(oci::k_annotation_ref_name));
  } else if (image.manifests.size() == 1) {
    // A source without an index (a registry tag on a manifest, a docker-archive)
    // stays so: the top-level document the writers reference is the manifest
    // itself, as skopeo copies it, so the digest a tag names does not change.
    image.index_json = image.manifests[0].manifest_json;
    image.index_descriptor = image.manifests[0].manifest_descriptor;
    image.index_descriptor.platform.reset();
  } else {
    image.index_json = index.to_json();
    image.index_descriptor = oci::describe(image.index_json, std::string(oci::k_media_oci_index));
  }
  return image;
}

}  // namespace distill::image
