#include "image/outputs.hpp"

#include "net/http_client.hpp"
#include "oci/archive_writer.hpp"
#include "oci/image_ref.hpp"
#include "oci/layout_writer.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/registry_client.hpp"

namespace distill::image {

namespace {

Result<crypto::Digest> push(const oci::Image& image, const oci::ImageRef& ref,
                            const RegistrySettings& settings) {
  DISTILL_TRY(auto connection, connect_registry(settings));
  return connection.client->push(image, ref);
}

}  // namespace

Result<RegistryConnection> connect_registry(const RegistrySettings& settings) {
  net::TransferOptions transfer;
  transfer.tls_verify = settings.tls_verify;
  transfer.cert_dir = settings.cert_dir;
  RegistryConnection connection;
  connection.http = net::make_curl_client(transfer);
  oci::RegistryOptions options;
  if (!settings.credentials.empty()) {
    DISTILL_TRY(auto creds, oci::parse_credentials(settings.credentials));
    options.credentials = creds;
  }
  options.auth_file = settings.auth_file;
  options.tls_verify = settings.tls_verify;
  connection.client = std::make_unique<oci::RegistryClient>(*connection.http, options);
  return connection;
}

Result<std::vector<std::string>> write_outputs(const oci::Image& image,
                                               const std::vector<std::string>& outputs,
                                               const OutputDefaults& defaults,
                                               const RegistrySettings& registry,
                                               util::Progress& progress) {
  std::vector<std::string> written;
  for (const auto& text : outputs) {
    DISTILL_TRY(auto ref, oci::ImageRef::parse(text));
    std::string tag = ref.tag.empty() ? defaults.tag : ref.tag;
    progress.step("writing " + text);
    switch (ref.transport) {
      case oci::ImageRef::Transport::OciLayout:
        DISTILL_CHECK(oci::write_oci_layout(ref.path, image, tag));
        break;
      case oci::ImageRef::Transport::OciArchive:
        DISTILL_CHECK(oci::write_oci_archive(ref.path, image, tag));
        break;
      case oci::ImageRef::Transport::DockerArchive: {
        if (image.manifests.size() != 1) {
          return make_error(
              ErrorKind::InvalidInput,
              text + ": a docker-archive holds one platform; build one --arch for it");
        }
        std::string name = ref.name.empty() ? defaults.name : ref.name;
        DISTILL_CHECK(
            oci::write_docker_archive(ref.path, image, name, tag, image.manifests[0].platform));
        break;
      }
      case oci::ImageRef::Transport::Registry: {
        DISTILL_TRY(auto digest, push(image, ref, registry));
        progress.step("pushed " + text + " (" + digest.str() + ")");
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
  } else {
    image.index_json = index.to_json();
    image.index_descriptor = oci::describe(image.index_json, std::string(oci::k_media_oci_index));
  }
  return image;
}

}  // namespace distill::image
