// libFuzzer target: the OCI JSON parsers (image config, manifest, index, media
// type sniffing) and image reference parsing on arbitrary bytes. Checks that
// whatever parses re-serialises to JSON that parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/image_config.hpp"
#include "oci/image_ref.hpp"
#include "oci/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distill::oci;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto config = ImageConfig::parse(bytes, "fuzz");
  if (config.ok()) {
    auto again = ImageConfig::parse(config->to_json(), "fuzz");
    if (!again.ok() || again->to_json() != config->to_json()) {
      std::abort();
    }
  }
  auto manifest = Manifest::parse(bytes, "fuzz");
  if (manifest.ok()) {
    auto again = Manifest::parse(manifest->to_json(), "fuzz");
    if (!again.ok() || !(*again == *manifest)) {
      std::abort();
    }
  }
  auto index = Index::parse(bytes, "fuzz");
  if (index.ok()) {
    auto again = Index::parse(index->to_json(), "fuzz");
    if (!again.ok() || !(*again == *index)) {
      std::abort();
    }
  }
  (void)sniff_media_type(bytes, "fuzz");

  auto ref = ImageRef::parse(bytes);
  if (ref.ok()) {
    auto again = ImageRef::parse(ref->to_string());
    if (!again.ok() || again->to_string() != ref->to_string()) {
      std::abort();
    }
  }
  return 0;
}
