// An artifact of the form distill does not make but carries in a copy: a
// config of its own and two layers (as `oras push` of two files writes it),
// referring to `subject`.
#pragma once

#include <string>

#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/referrer.hpp"

namespace distill::test {

inline oci::Referrer several_files_referrer(const oci::Descriptor& subject) {
  oci::Referrer files;
  files.subject = subject;
  files.config = {oci::describe(R"({"tool":1})", "application/vnd.example.config+json"),
                  R"({"tool":1})"};
  for (const char* data : {"first file", "second file"}) {
    files.layers.push_back({oci::describe(data, "application/vnd.example.file"), data});
  }
  oci::Manifest manifest;
  manifest.artifact_type = "application/vnd.example";
  manifest.config = files.config.descriptor;
  manifest.layers = {files.layers[0].descriptor, files.layers[1].descriptor};
  manifest.subject = subject;
  files.manifest_json = manifest.to_json();
  files.manifest = oci::describe(files.manifest_json, std::string(oci::k_media_oci_manifest));
  files.manifest.artifact_type = manifest.artifact_type;
  return files;
}

}  // namespace distill::test
