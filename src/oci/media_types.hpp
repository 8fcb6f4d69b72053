// Media types of OCI image-spec v1.1 and Docker image manifest v2 schema 2.
//
// See https://github.com/opencontainers/image-spec/blob/main/media-types.md and
// https://distribution.github.io/distribution/spec/manifest-v2-2/.
#pragma once

#include <string_view>

namespace distill::oci {

// OCI image-spec.
inline constexpr std::string_view k_media_oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view k_media_oci_manifest =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_media_oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view k_media_oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view k_media_oci_layer_gzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view k_media_oci_layer_zstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view k_media_oci_empty = "application/vnd.oci.empty.v1+json";

// Docker image manifest v2, schema 2.
inline constexpr std::string_view k_media_docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view k_media_docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view k_media_docker_config =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view k_media_docker_layer_gzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";

// Annotation keys used by layouts and images.
inline constexpr std::string_view k_annotation_ref_name = "org.opencontainers.image.ref.name";
inline constexpr std::string_view k_annotation_created = "org.opencontainers.image.created";

// True for an image index or a Docker manifest list.
bool is_index_media_type(std::string_view media_type);
// True for an OCI image manifest or a Docker v2 schema 2 manifest.
bool is_manifest_media_type(std::string_view media_type);

// True for the layer types distill reads: OCI tar, tar+gzip and tar+zstd (and
// their deprecated non-distributable forms), Docker's gzip, plain and foreign
// layers.
bool is_layer_media_type(std::string_view media_type);
// True for an image's config (OCI or Docker): a manifest with another config
// (the empty one, an SBOM's) is an artifact, not an image.
bool is_image_config_media_type(std::string_view media_type);

// The OCI equivalent of a Docker media type (layer gzip -> tar+gzip, uncompressed
// layer -> tar, container config -> OCI config, manifest, manifest list); other
// types are returned unchanged. For reusing a Docker image's blobs in an OCI image.
std::string_view to_oci_media_type(std::string_view media_type);

}  // namespace distill::oci
