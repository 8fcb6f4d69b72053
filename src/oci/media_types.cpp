// Classification of OCI / Docker media types (see media_types.hpp).
#include "oci/media_types.hpp"

namespace distill::oci {

bool is_index_media_type(std::string_view media_type) {
  return media_type == k_media_oci_index || media_type == k_media_docker_manifest_list;
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == k_media_oci_manifest || media_type == k_media_docker_manifest;
}

std::string_view to_oci_media_type(std::string_view media_type) {
  if (media_type == k_media_docker_layer_gzip) {
    return k_media_oci_layer_gzip;
  }
  if (media_type == "application/vnd.docker.image.rootfs.diff.tar") {
    return k_media_oci_layer_tar;
  }
  if (media_type == k_media_docker_config) {
    return k_media_oci_config;
  }
  if (media_type == k_media_docker_manifest) {
    return k_media_oci_manifest;
  }
  if (media_type == k_media_docker_manifest_list) {
    return k_media_oci_index;
  }
  return media_type;
}

}  // namespace distill::oci
