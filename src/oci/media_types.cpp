// Classification of OCI / Docker media types (see media_types.hpp).
#include "oci/media_types.hpp"

namespace distill::oci {

bool is_index_media_type(std::string_view media_type) {
  return media_type == k_media_oci_index || media_type == k_media_docker_manifest_list;
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == k_media_oci_manifest || media_type == k_media_docker_manifest;
}

bool is_layer_media_type(std::string_view media_type) {
  for (std::string_view known :
       {k_media_oci_layer_tar, k_media_oci_layer_gzip, k_media_oci_layer_zstd,
        std::string_view("application/vnd.oci.image.layer.nondistributable.v1.tar"),
        std::string_view("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
        std::string_view("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"),
        k_media_docker_layer_gzip, std::string_view("application/vnd.docker.image.rootfs.diff.tar"),
        std::string_view("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")}) {
    if (media_type == known) {
      return true;
    }
  }
  return false;
}

bool is_image_config_media_type(std::string_view media_type) {
  return media_type == k_media_oci_config || media_type == k_media_docker_config;
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
