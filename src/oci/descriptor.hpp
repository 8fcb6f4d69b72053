// Descriptor and Platform of the OCI image-spec (descriptor.md, image-index.md),
// and their JSON form.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct Platform {
  std::string os = "linux";
  std::string architecture;
  std::string variant;

  friend bool operator==(const Platform&, const Platform&) = default;
  // "linux/arm64/v8" style, variant omitted when empty.
  [[nodiscard]] std::string str() const;
};

// Maps a Debian architecture name to the OCI platform (GOARCH names):
// amd64, arm64 (v8), armhf (arm v7), armel (arm v5), i386 (386), ppc64el (ppc64le),
// s390x, riscv64, mips64el. Unknown names are passed through as the architecture.
Platform platform_for_debian_arch(std::string_view debian_arch);
// The reverse: the Debian architecture of an OCI platform (arm without a variant,
// or v7, is armhf; arm v5 and v6 are armel). Unknown architectures pass through.
std::string debian_arch_for_platform(const Platform& platform);
// "OS/ARCH[/VARIANT]" as `--platform` takes it ("linux/arm64", "linux/arm/v7");
// InvalidInput naming `text` otherwise.
Result<Platform> parse_platform(std::string_view text);

struct Descriptor {
  std::string media_type;
  crypto::Digest digest;
  uint64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifact_type;

  friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

// A descriptor for `data` of `media_type` (sha256 + size).
Descriptor describe(std::string_view data, std::string media_type);

// JSON adapters used by the manifest/index/config code (keys as in the spec:
// mediaType, digest, size, annotations, platform, artifactType; empty ones omitted).
nlohmann::json to_json(const Descriptor& descriptor);
nlohmann::json to_json(const Platform& platform);
// `where` names the document for error messages ("index.json: manifests[2]").
Result<Descriptor> descriptor_from_json(const nlohmann::json& json, const std::string& where);
Result<Platform> platform_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace distill::oci
