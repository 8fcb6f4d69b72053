// Image manifest and image index JSON (OCI image-spec manifest.md and
// image-index.md; Docker v2 schema 2 manifest and manifest list are accepted by
// parse()).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/descriptor.hpp"
#include "oci/media_types.hpp"
#include "util/result.hpp"

namespace distill::oci {

struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  std::optional<Descriptor> subject;
  std::string artifact_type;
  std::string media_type = std::string(k_media_oci_manifest);

  friend bool operator==(const Manifest&, const Manifest&) = default;

  // Compact, deterministic JSON with "schemaVersion": 2 and "mediaType".
  [[nodiscard]] std::string to_json() const;
  static Result<Manifest> parse(std::string_view json, const std::string& origin);
};

struct Index {
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
  std::string media_type = std::string(k_media_oci_index);

  friend bool operator==(const Index&, const Index&) = default;

  [[nodiscard]] std::string to_json() const;
  static Result<Index> parse(std::string_view json, const std::string& origin);
};

// Reads "mediaType" of a manifest-like document (empty if absent; InvalidInput if
// not JSON). Lets a reader decide between Manifest::parse and Index::parse.
Result<std::string> sniff_media_type(std::string_view json, const std::string& origin);

}  // namespace distill::oci
