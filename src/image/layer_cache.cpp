#include "image/layer_cache.hpp"

#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "oci/blob_store.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/file_stamp.hpp"

namespace distill::image {

namespace {
// Bump when the layout of any layer changes, so old cache entries are ignored.
constexpr std::string_view k_format = "distill-layer-v1";
}  // namespace

LayerKey::LayerKey(std::string_view kind) {
  add("format", k_format);
  add("kind", kind);
}

LayerKey& LayerKey::add(std::string_view field, std::string_view value) {
  assert(m_hex.empty() && "LayerKey::add after hex()");
  // Length-prefixed so that no two different sequences hash alike.
  std::string header = std::to_string(field.size()) + ":" + std::string(field) + "=" +
                       std::to_string(value.size()) + ":";
  m_hash.update(header);
  m_hash.update(value);
  return *this;
}

LayerKey& LayerKey::add(std::string_view field, int64_t value) {
  return add(field, std::to_string(value));
}

std::string LayerKey::hex() {
  if (m_hex.empty()) {
    m_hex = m_hash.finish().hex();
  }
  return m_hex;
}

LayerCache::LayerCache(std::filesystem::path cache_dir) : m_dir(std::move(cache_dir)) {}

std::optional<oci::LayerBlob> LayerCache::lookup(const std::string& key) const {
  auto text = util::read_file(m_dir / "layers" / (key + ".json"));
  if (!text.ok()) {
    return std::nullopt;
  }
  try {
    auto json = nlohmann::json::parse(*text);
    // A record of several layers, made by one build (store_all): this key's.
    if (auto records = json.find("records"); records != json.end()) {
      auto record = records->find(key);
      if (record == records->end()) {
        return std::nullopt;
      }
      json = nlohmann::json(*record);
    }
    oci::LayerBlob blob;
    blob.descriptor.media_type = json.at("mediaType").get<std::string>();
    auto digest = crypto::Digest::parse(json.at("digest").get<std::string>());
    auto diff_id = crypto::Digest::parse(json.at("diffID").get<std::string>());
    if (!digest.ok() || !diff_id.ok()) {
      return std::nullopt;
    }
    blob.descriptor.digest = *digest;
    blob.descriptor.size = json.at("size").get<uint64_t>();
    blob.diff_id = *diff_id;
    blob.uncompressed_size = json.at("uncompressedSize").get<uint64_t>();
    blob.file = m_dir / "blobs" / "sha256" / digest->hex();
    auto stamp = util::stamp_of(blob.file);
    if (!stamp || stamp->size != blob.descriptor.size) {
      return std::nullopt;
    }
    auto recorded = util::FileStamp::parse(json.value("stamp", std::string()));
    if (recorded && *recorded == *stamp) {
      return blob;  // unchanged since it was verified
    }
    // Written since (another build's identical blob, or damage): hash it; a
    // damaged entry is dropped, and the layer rebuilt.
    if (drop_if_damaged(blob)) {
      return std::nullopt;
    }
    (void)store(key, blob);  // records the new stamp; a failure only costs a hash next time
    return blob;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged record is a miss; the layer is rebuilt
  }
}

bool LayerCache::drop_if_damaged(const oci::LayerBlob& blob) const {
  if (blob.file != m_dir / "blobs" / "sha256" / blob.descriptor.digest.hex()) {
    return false;
  }
  auto hashed = oci::digest_file(blob.file);
  if (hashed.ok() && hashed->digest == blob.descriptor.digest &&
      hashed->size == blob.descriptor.size) {
    return false;
  }
  ::unlink(blob.file.c_str());  // gone or not, it is no entry to take
  return true;
}

namespace {

nlohmann::json record_of(const oci::LayerBlob& blob) {
  nlohmann::json json = {
      {"mediaType", blob.descriptor.media_type},
      {"digest", blob.descriptor.digest.str()},
      {"size", blob.descriptor.size},
      {"diffID", blob.diff_id.str()},
      {"uncompressedSize", blob.uncompressed_size},
  };
  // The blob as it is now, just written and hashed by the layer writer (or
  // hashed by lookup): a later lookup that finds it unchanged trusts it.
  if (auto stamp = util::stamp_of(blob.file)) {
    json["stamp"] = stamp->str();
  }
  return json;
}

}  // namespace

Status LayerCache::make_record_dir() const {
  std::error_code ec;
  std::filesystem::create_directories(record_dir(), ec);
  return ec ? util::errno_error(record_dir(), ec.value()) : Status{};
}

Status LayerCache::store(const std::string& key, const oci::LayerBlob& blob) const {
  DISTILL_CHECK(make_record_dir());
  return util::write_file_atomic(record_dir() / (key + ".json"), record_of(blob).dump());
}

Status LayerCache::store_all(
    const std::vector<std::pair<std::string, oci::LayerBlob>>& layers) const {
  if (layers.size() < 2) {
    for (const auto& [key, blob] : layers) {
      DISTILL_CHECK(store(key, blob));
    }
    return {};
  }
  DISTILL_CHECK(make_record_dir());
  nlohmann::json records = nlohmann::json::object();
  for (const auto& [key, blob] : layers) {
    records[key] = record_of(blob);
  }
  DISTILL_TRY(auto file, util::AtomicFile::create(record_dir() / "records.json"));
  DISTILL_CHECK(file.write(nlohmann::json{{"records", std::move(records)}}.dump()));
  for (const auto& [key, blob] : layers) {
    if (!file.link_as(record_dir() / (key + ".json")).ok()) {
      DISTILL_CHECK(store(key, blob));  // no hard links here: a file of its own
    }
  }
  return {};  // the temporary's own name goes with `file`
}

Result<oci::LayerBlob> LayerCache::adopt(const std::string& key, const oci::LayerBlob& blob) const {
  oci::LayerBlob held = blob;
  held.file = m_dir / "blobs" / "sha256" / blob.descriptor.digest.hex();
  std::error_code ec;
  std::filesystem::create_directories(held.file.parent_path(), ec);
  if (ec) {
    return util::errno_error(held.file.parent_path(), ec.value());
  }
  if (::link(blob.file.c_str(), held.file.c_str()) != 0) {
    if (errno == EEXIST) {
      // A blob already there is kept only if it holds its digest.
      auto hashed = oci::digest_file(held.file);
      if (hashed.ok() && hashed->digest == blob.descriptor.digest) {
        DISTILL_CHECK(store(key, held));
        return held;
      }
      ::unlink(held.file.c_str());
    }
    if (::link(blob.file.c_str(), held.file.c_str()) != 0) {
      // Another file system: a copy, published by rename like every blob.
      DISTILL_TRY(auto bytes, util::read_file(blob.file));
      DISTILL_CHECK(util::write_file_atomic(held.file, bytes));
    }
  }
  DISTILL_CHECK(store(key, held));
  return held;
}

}  // namespace distill::image
