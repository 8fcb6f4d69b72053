// open_image for every transport (see source.hpp).
#include "oci/source.hpp"

namespace distill::oci {

net::TransferOptions transfer_options(const RegistryOptions& registry,
                                      const std::filesystem::path& cert_dir) {
  net::TransferOptions transfer;
  transfer.tls_verify = registry.tls_verify;
  transfer.cert_dir = cert_dir;
  return transfer;
}

Result<LoadedImage> open_image(const ImageRef& ref, const SourceOptions& options) {
  if (ref.transport != ImageRef::Transport::Registry) {
    return load_image(ref, options.layers);
  }
  auto http = net::make_curl_client(transfer_options(options.registry, options.cert_dir));
  RegistryOptions registry = options.registry;
  registry.upload_attempts = 1;  // reading only
  RegistryClient client(*http, registry);
  DISTILL_TRY(LoadedImage image, client.pull(ref, options.pull));
  std::string host = ref.registry == "docker.io" ? "" : ref.registry + "/";
  std::string name = ref.registry == "docker.io" && ref.name.starts_with("library/")
                         ? ref.name.substr(8)
                         : ref.name;
  if (!ref.tag.empty()) {
    image.repo_tag = host + name + ":" + ref.tag;
  }
  return image;
}

Result<LoadedImage> open_image(std::string_view ref, const SourceOptions& options) {
  DISTILL_TRY(ImageRef parsed, ImageRef::parse(ref));
  return open_image(parsed, options);
}

}  // namespace distill::oci
