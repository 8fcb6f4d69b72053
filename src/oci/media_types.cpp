// Classification of OCI / Docker media types (see media_types.hpp).
#include "oci/media_types.hpp"

namespace distill::oci {

bool is_index_media_type(std::string_view media_type) {
  return media_type == k_media_oci_index || media_type == k_media_docker_manifest_list;
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == k_media_oci_manifest || media_type == k_media_docker_manifest;
}

}  // namespace distill::oci
