#include "cli/image_loading.hpp"

#include "net/http_client.hpp"
#include "oci/descriptor.hpp"
#include "oci/image_ref.hpp"
#include "oci/registry_client.hpp"

namespace distill::cli {

std::string host_debian_arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "armhf";
#elif defined(__powerpc64__)
  return "ppc64el";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv)
  return "riscv64";
#else
  return "amd64";
#endif
}

Result<oci::LoadedImage> load_reference(const std::string& text) {
  DISTILL_TRY(auto ref, oci::ImageRef::parse(text));
  if (ref.transport == oci::ImageRef::Transport::Registry) {
    auto http = net::make_curl_client();
    oci::RegistryClient client(*http, {});
    return client.pull(ref);
  }
  return oci::load_image(ref);
}

Result<const oci::LoadedManifest*> select_platform(const oci::LoadedImage& image,
                                                   const std::string& reference,
                                                   const std::string& debian_arch) {
  std::string arch = debian_arch.empty() ? host_debian_arch() : debian_arch;
  oci::Platform want = oci::platform_for_debian_arch(arch);
  for (const auto& m : image.manifests) {
    if (m.platform.architecture == want.architecture &&
        (want.variant.empty() || m.platform.variant.empty() ||
         m.platform.variant == want.variant)) {
      return &m;
    }
  }
  std::string have;
  for (const auto& m : image.manifests) {
    have += (have.empty() ? "" : ", ") + m.platform.architecture;
  }
  return make_error(ErrorKind::NotFound,
                    reference + ": no " + arch + " image (it has: " + have + ")");
}

}  // namespace distill::cli
