// Writes an Image as a tar: an OCI layout tar (oci-archive) or the `docker save`
// format (docker-archive: manifest.json + repositories + OCI layout).
// Entries are deterministic (sorted, mtime 0, root-owned); the tar is written to a
// temporary file and renamed into place.
#pragma once

#include <filesystem>
#include <string>

#include "oci/image.hpp"
#include "util/result.hpp"

namespace distill::oci {

// A tar of the OCI layout write_oci_layout would produce for a fresh directory.
Status write_oci_archive(const std::filesystem::path& file, const Image& image,
                         const std::string& ref_name);

// docker save format for ONE platform manifest (see select_manifest): manifest.json
// [{"Config":"blobs/sha256/<hex>","RepoTags":["name:tag"],"Layers":[...]}],
// repositories, oci-layout, index.json (pointing at the single manifest) and blobs.
// An empty name leaves RepoTags empty and omits repositories.
Status write_docker_archive(const std::filesystem::path& file, const Image& image,
                            const std::string& name, const std::string& tag,
                            const Platform& platform = Platform{"linux", "", ""});

}  // namespace distill::oci
