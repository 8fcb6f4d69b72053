// Writes an OCI image layout (image-layout.md): oci-layout, blobs/sha256/<hex>
// and index.json, whose descriptor annotated with org.opencontainers.image.ref.name
// points at the image index. Blobs first, index.json last and atomically, so a
// failure leaves the previous layout readable.
#include "oci/layout_writer.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "oci/blob_store.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/interrupt_cleanup.hpp"
#include "util/thread_pool.hpp"

namespace distill::oci {

namespace {

constexpr std::string_view k_oci_layout = R"({"imageLayoutVersion":"1.0.0"})";

Status write_blobs(BlobStore& store, const Image& image, BlobStaging* staging) {
  // The layers, each once: moved in where staged, the others copied on every
  // core (the largest first).
  std::vector<const LayerBlob*> layers;
  std::set<crypto::Digest> seen;
  for (const auto& entry : image.manifests) {
    for (const auto& layer : entry.layers) {
      const crypto::Digest& digest = layer.descriptor.digest;
      if (seen.insert(digest).second && !store.contains(digest, layer.descriptor.size) &&
          (staging == nullptr || !staging->publish(digest, store.path_for(digest)))) {
        layers.push_back(&layer);
      }
    }
  }
  std::stable_sort(layers.begin(), layers.end(), [](const LayerBlob* a, const LayerBlob* b) {
    return a->descriptor.size > b->descriptor.size;
  });
  std::vector<Status> copied(layers.size());
  if (!layers.empty()) {  // (hardware_concurrency() reads /sys)
    util::parallel_for(
        layers.size(), std::max(1U, std::thread::hardware_concurrency()), [&](size_t i) {
          copied[i] =
              store.put_file(layers[i]->descriptor.digest, layers[i]->file, layers[i]->hashed);
        });
  }
  for (auto& status : copied) {
    DISTILL_CHECK(std::move(status));
  }
  for (const auto& entry : image.manifests) {
    DISTILL_CHECK(store.put(entry.config_json, entry.config_descriptor.media_type));
    DISTILL_CHECK(store.put(entry.manifest_json, entry.manifest_descriptor.media_type));
  }
  DISTILL_CHECK(store.put(image.index_json, image.index_descriptor.media_type));
  return {};
}

// Points the descriptor of `index` annotated with `ref_name` at the image
// (added when there is none).
void tag(Index& index, const Image& image, const std::string& ref_name) {
  index.media_type = std::string(k_media_oci_index);
  Descriptor tagged = image.index_descriptor;
  tagged.annotations[std::string(k_annotation_ref_name)] = ref_name;
  bool replaced = false;
  for (auto& descriptor : index.manifests) {
    auto it = descriptor.annotations.find(std::string(k_annotation_ref_name));
    if (it != descriptor.annotations.end() && it->second == ref_name) {
      descriptor = tagged;
      replaced = true;
    }
  }
  if (!replaced) {
    index.manifests.push_back(tagged);
  }
}

// Completes the new layout `root` that a staging assembles (its staged layers
// are in it already). Nobody else writes in `root`, so no lock is taken.
Status complete_new_layout(const std::filesystem::path& root, const Image& image,
                           const std::string& ref_name) {
  DISTILL_TRY(BlobStore store, BlobStore::open_private(root / "blobs"));
  DISTILL_CHECK(write_blobs(store, image, nullptr));
  DISTILL_CHECK(util::write_new_file(root / "oci-layout", k_oci_layout));
  Index index;
  tag(index, image, ref_name);
  return util::write_new_file(root / "index.json", index.to_json());
}

// Writes the image as the new layout `staging` assembles and renames it into
// place: true when it was, false when the layout is to be written in place
// after all (BlobStaging::publish_layout). On an error (a damaged source
// blob) nothing is placed: what the new layout held goes with the staging.
Result<bool> write_new_layout(const std::filesystem::path& root, const Image& image,
                              const std::string& ref_name, BlobStaging& staging) {
  if (Status completed = complete_new_layout(root, image, ref_name); !completed.ok()) {
    staging.abandon_new_layout();
    return std::move(completed).error();
  }
  return staging.publish_layout();
}

}  // namespace

Status write_oci_layout(const std::filesystem::path& dir, const Image& image,
                        const std::string& ref_name, BlobStaging* staging) {
  if (image.index_json.empty()) {
    return make_error(ErrorKind::Internal, "write_oci_layout: image not finalized");
  }
  std::error_code ec;
  // A layout that does not exist yet is assembled beside it and renamed into
  // place, even when nothing was staged for it (every layer was cached): a
  // failure part-way leaves no layout without its index.json.
  std::unique_ptr<BlobStaging> own_staging;
  if ((staging == nullptr || !staging->new_layout()) &&
      !std::filesystem::exists(std::filesystem::symlink_status(dir, ec))) {
    if (!dir.parent_path().empty()) {
      std::filesystem::create_directories(dir.parent_path(), ec);
    }
    own_staging = BlobStaging::open(dir);
    if (own_staging != nullptr && own_staging->new_layout()) {
      staging = own_staging.get();
    }
  }
  if (staging != nullptr) {
    if (auto root = staging->new_layout()) {
      DISTILL_TRY(bool published, write_new_layout(*root, image, ref_name, *staging));
      if (published) {
        return {};
      }
    }
  }
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorKind::Io, dir.string() + ": " + ec.message());
  }

  // Serialise writers of the same layout (several builds adding refs).
  DISTILL_TRY(util::Fd lock, lock_layout(dir));

  // Read the existing index first: a corrupt one is an error, not overwritten.
  Index index;
  std::filesystem::path index_path = dir / "index.json";
  std::optional<std::string> existing;
  if (std::filesystem::exists(index_path, ec)) {
    DISTILL_TRY(existing, util::read_file(index_path));
    DISTILL_TRY(index, Index::parse(*existing, index_path.string()));
  }

  std::filesystem::path layout_path = dir / "oci-layout";
  if (!std::filesystem::exists(layout_path, ec)) {
    DISTILL_CHECK(util::write_file_atomic(layout_path, k_oci_layout));
  }
  DISTILL_TRY(BlobStore store, BlobStore::open(dir / "blobs"));
  // What an earlier writer of this layout left when it was killed: nothing
  // in a directory this call made (a writer that slipped in between the
  // mkdir and the lock and was killed leaves its temporaries to the next).
  if (!created) {
    util::sweep_abandoned(dir, ".", ".tmp.");
    util::sweep_abandoned(dir / "blobs" / "sha256", ".", ".tmp.");
  }
  if (staging == nullptr) {
    sweep_abandoned_staging(dir);  // BlobStaging::open() swept beside it already
  }
  DISTILL_CHECK(write_blobs(store, image, staging));
  tag(index, image, ref_name);
  std::string json = index.to_json();
  if (existing == json) {
    return {};  // already tagged so: a rebuild that changed nothing changes no file
  }
  return util::write_file_atomic(index_path, json);
}

Result<util::Fd> lock_layout(const std::filesystem::path& dir) {
  util::Fd lock(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!lock.valid()) {
    return util::errno_error(dir, errno);
  }
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      return util::errno_error(dir, errno);
    }
  }
  return lock;
}

}  // namespace distill::oci
