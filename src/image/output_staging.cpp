#include "image/output_staging.hpp"

#include "oci/image_ref.hpp"

namespace distill::image {

namespace {

std::filesystem::path key_of(const std::filesystem::path& dir) { return dir.lexically_normal(); }

}  // namespace

OutputStaging::OutputStaging(const std::vector<std::vector<std::string>>& outputs) {
  for (const auto& image : outputs) {
    auto& layouts = m_layouts.emplace_back();
    for (const auto& text : image) {
      auto ref = oci::ImageRef::parse(text);
      if (ref.ok() && ref->transport == oci::ImageRef::Transport::OciLayout) {
        layouts.push_back(ref->path);
      }
    }
  }
}

oci::BlobStaging* OutputStaging::open(const std::filesystem::path& dir) {
  std::lock_guard lock(m_mutex);
  auto [it, added] = m_stagings.try_emplace(key_of(dir));
  if (added) {
    it->second = oci::BlobStaging::open(dir);
  }
  return it->second.get();
}

void OutputStaging::stage(size_t image, const oci::LayerBlob& blob) {
  if (image >= m_layouts.size() || !blob.hashed) {
    return;
  }
  for (const auto& dir : m_layouts[image]) {
    if (oci::BlobStaging* staging = open(dir)) {
      staging->stage(blob.descriptor.digest, blob.file);
    }
  }
}

oci::BlobStaging* OutputStaging::find(const std::filesystem::path& dir) const {
  std::lock_guard lock(m_mutex);
  auto it = m_stagings.find(key_of(dir));
  return it == m_stagings.end() ? nullptr : it->second.get();
}

}  // namespace distill::image
