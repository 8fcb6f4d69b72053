// Image references in skopeo/podman transport syntax (docs/formats/oci-refs.md):
//   oci:DIR[:REF]  oci-archive:FILE[:REF]  docker-archive:FILE[:NAME:TAG]
//   docker://HOST[:PORT]/REPO[:TAG|@sha256:HEX]
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace distill::oci {

struct ImageRef {
  enum class Transport { OciLayout, OciArchive, DockerArchive, Registry };

  Transport transport = Transport::OciLayout;
  std::filesystem::path path;  // layout dir / archive file
  // oci:/oci-archive: ref name (default "latest"); docker-archive: TAG (may be empty);
  // registry: tag (default "latest" unless a digest is given).
  std::string tag;
  // docker-archive: image NAME (may be empty); registry: repository ("library/x").
  std::string name;
  std::string registry;  // host[:port], "docker.io" for Docker Hub
  std::string digest;    // registry: "sha256:<hex>" when given by digest

  // InvalidInput naming the text on any syntax error.
  static Result<ImageRef> parse(std::string_view text);
  // The canonical text form, parse()-able again.
  [[nodiscard]] std::string to_string() const;
};

// Whether `ref` can be written to: a registry reference naming both a tag and a
// digest cannot (which would the manifest go under?), as skopeo refuses it too.
// InvalidInput naming the reference.
Status check_destination(const ImageRef& ref);

// The NAME of a NAME:TAG image reference (docker's reference grammar): an
// optional registry host[:port] first, then path components of lowercase
// letters and digits joined by '.', '_', '__' or '-'s, separated by '/'.
bool valid_repository_name(std::string_view name);
// A TAG: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool valid_tag(std::string_view tag);
// Both, as one InvalidInput error naming `what` (e.g. "--tag 'a:b:c'"); an
// empty name or tag is not checked.
Status check_name_and_tag(std::string_view name, std::string_view tag, const std::string& what);

}  // namespace distill::oci
