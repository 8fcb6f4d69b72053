// OutputStaging: the blobs of a build's oci: outputs, staged while its layers
// are made (oci/blob_staging.hpp). As each new layer is finished, a pool
// thread copies it next to every layout directory that one of its images goes
// to; writing the layouts at the end then moves the copies in. One staging per
// layout directory, made when its first layer comes, shared by the images that
// go there. Other outputs (archives, registries) are written as before.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "oci/blob_staging.hpp"
#include "oci/image.hpp"

namespace distill::image {

class OutputStaging {
 public:
  // `outputs[i]`: the output references of image i (as build_images() has them).
  explicit OutputStaging(const std::vector<std::vector<std::string>>& outputs);
  OutputStaging(const OutputStaging&) = delete;
  OutputStaging& operator=(const OutputStaging&) = delete;
  ~OutputStaging() = default;

  // Stages `blob`, a layer image `image` uses and this process just made, for
  // each of that image's oci: outputs. Safe to call from several threads.
  void stage(size_t image, const oci::LayerBlob& blob);

  // What was staged for the layout directory `dir` (as its output names it);
  // null when nothing was.
  oci::BlobStaging* find(const std::filesystem::path& dir) const;

 private:
  // The staging of `dir`, opened on first use; null where it cannot be.
  oci::BlobStaging* open(const std::filesystem::path& dir);

  std::vector<std::vector<std::filesystem::path>> m_layouts;  // by image
  mutable std::mutex m_mutex;
  std::map<std::filesystem::path, std::unique_ptr<oci::BlobStaging>> m_stagings;
};

}  // namespace distill::image
