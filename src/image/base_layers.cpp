#include "image/base_layers.hpp"

#include <algorithm>
#include <optional>
#include <thread>

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "util/file_io.hpp"
#include "util/thread_pool.hpp"

namespace distill::image {

namespace {

// The diff_id a layer's check recorded, when it has been checked.
std::optional<std::string> recorded(const std::filesystem::path& record) {
  auto text = util::read_file(record);
  if (!text.ok()) {
    return std::nullopt;
  }
  return std::move(text).value();
}

Status check_layer(const oci::Descriptor& layer, const std::filesystem::path& file,
                   const crypto::Digest& diff_id, const std::filesystem::path& records,
                   const std::string& what) {
  const std::filesystem::path record = records / layer.digest.hex();
  if (recorded(record) == diff_id.str()) {
    return {};
  }
  auto tar = archive::uncompressed_digest(file);
  if (!tar.ok()) {
    return make_error(ErrorKind::Corrupt, what + ": layer " + layer.digest.str() +
                                              " does not decompress: " + tar.error().message);
  }
  if (tar->digest != diff_id) {
    return make_error(ErrorKind::Corrupt, what + ": layer " + layer.digest.str() +
                                              " decompresses to " + tar->digest.str() +
                                              ", not the diff_id " + diff_id.str() +
                                              " its config gives");
  }
  // Only a cache: a record that cannot be written costs a check next time.
  std::error_code ec;
  std::filesystem::create_directories(records, ec);
  (void)util::write_file_atomic(record, diff_id.str());
  return {};
}

}  // namespace

Status check_base_layers(const oci::LoadedManifest& manifest, const std::filesystem::path& records,
                         const std::string& what) {
  const auto& layers = manifest.manifest.layers;
  const auto& diff_ids = manifest.config.diff_ids;
  if (layers.size() != diff_ids.size() || layers.size() != manifest.layer_files.size()) {
    return make_error(ErrorKind::Corrupt, what + ": the image has " +
                                              std::to_string(layers.size()) +
                                              " layers, but its config gives " +
                                              std::to_string(diff_ids.size()) + " diff_ids");
  }
  std::vector<Status> checks(layers.size());
  util::parallel_for(
      layers.size(), std::max(1U, std::thread::hardware_concurrency()), [&](size_t i) {
        checks[i] = check_layer(layers[i], manifest.layer_files[i], diff_ids[i], records, what);
      });
  for (const Status& check : checks) {
    DISTILL_CHECK(check);
  }
  return {};
}

}  // namespace distill::image
