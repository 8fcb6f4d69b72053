// ViewCache: see view_cache.hpp.
#include "check/view_cache.hpp"

#include <cstring>
#include <utility>

#include "image/layer_cache.hpp"
#include "util/build_id.hpp"

namespace distill::check {

namespace {

// The record's first bytes: a record of another layout is not one.
constexpr std::string_view k_magic = "distill view 1\n";

class Writer {
 public:
  void number(uint64_t value) {
    char bytes[sizeof value];
    std::memcpy(bytes, &value, sizeof value);
    m_out.append(bytes, sizeof bytes);
  }
  void text(std::string_view value) {
    number(value.size());
    m_out += value;
  }
  std::string take() { return std::move(m_out); }

 private:
  std::string m_out{k_magic};
};

// Reads what Writer wrote; the first read past the end, or of a length
// longer than what is left, makes every later one fail too.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : m_rest(bytes) {}
  bool number(uint64_t& value) {
    if (m_rest.size() < sizeof value) {
      return m_ok = false;
    }
    std::memcpy(&value, m_rest.data(), sizeof value);
    m_rest.remove_prefix(sizeof value);
    return m_ok;
  }
  bool text(std::string& value) {
    uint64_t size = 0;
    if (!number(size) || size > m_rest.size()) {
      return m_ok = false;
    }
    value.assign(m_rest.substr(0, size));
    m_rest.remove_prefix(size);
    return m_ok;
  }
  template <typename T>
  bool narrow(T& value) {
    uint64_t wide = 0;
    if (!number(wide)) {
      return false;
    }
    value = static_cast<T>(wide);
    if (static_cast<uint64_t>(value) != wide) {
      return m_ok = false;
    }
    return m_ok;
  }
  [[nodiscard]] bool ok() const { return m_ok; }
  [[nodiscard]] bool at_end() const { return m_ok && m_rest.empty(); }

 private:
  std::string_view m_rest;
  bool m_ok = true;
};

}  // namespace

std::string encode_layer_read(const ImageView::LayerRead& read) {
  Writer out;
  out.number(read.entries.size());
  for (const archive::TarEntry& entry : read.entries) {
    out.text(entry.path);
    out.number(static_cast<uint64_t>(entry.type));
    out.number(entry.mode);
    out.number(entry.uid);
    out.number(entry.gid);
    out.text(entry.uname);
    out.text(entry.gname);
    out.number(static_cast<uint64_t>(entry.mtime));
    out.number(entry.size);
    out.text(entry.link_target);
    out.number(entry.dev_major);
    out.number(entry.dev_minor);
  }
  out.number(read.kept.size());
  for (const auto& [position, data] : read.kept) {
    out.number(position);
    out.text(data);
  }
  out.number(read.uncompressed ? 1 : 0);
  out.number(read.uncompressed.value_or(0));
  return out.take();
}

std::optional<ImageView::LayerRead> decode_layer_read(std::string_view bytes) {
  if (bytes.substr(0, k_magic.size()) != k_magic) {
    return std::nullopt;
  }
  Reader in(bytes.substr(k_magic.size()));
  ImageView::LayerRead read;
  uint64_t count = 0;
  // Each entry takes at least 12 numbers: a count beyond what the bytes can
  // hold is damage, not a reason to reserve.
  if (!in.number(count) || count > bytes.size() / (12 * sizeof(uint64_t))) {
    return std::nullopt;
  }
  read.entries.resize(count);
  for (archive::TarEntry& entry : read.entries) {
    uint64_t type = 0;
    uint64_t mtime = 0;
    in.text(entry.path);
    in.number(type);
    in.narrow(entry.mode);
    in.narrow(entry.uid);
    in.narrow(entry.gid);
    in.text(entry.uname);
    in.text(entry.gname);
    in.number(mtime);
    in.number(entry.size);
    in.text(entry.link_target);
    in.narrow(entry.dev_major);
    in.narrow(entry.dev_minor);
    if (!in.ok() || type > static_cast<uint64_t>(archive::EntryType::Fifo) || entry.path.empty()) {
      return std::nullopt;
    }
    entry.type = static_cast<archive::EntryType>(type);
    entry.mtime = static_cast<int64_t>(mtime);
  }
  if (!in.number(count)) {
    return std::nullopt;
  }
  for (uint64_t n = 0; n < count; ++n) {
    uint64_t position = 0;
    std::string data;
    if (!in.number(position) || !in.text(data) || position >= read.entries.size() ||
        read.entries[position].type != archive::EntryType::File ||
        !read.kept.emplace(position, std::move(data)).second) {
      return std::nullopt;
    }
  }
  uint64_t measured = 0;
  uint64_t size = 0;
  if (!in.number(measured) || !in.number(size) || measured > 1 || !in.at_end()) {
    return std::nullopt;
  }
  if (measured == 1) {
    read.uncompressed = size;
  }
  return read;
}

ViewCache::ViewCache(const std::filesystem::path& cache_dir, std::string purpose)
    : m_records(cache_dir / "views", ".bin"), m_purpose(std::move(purpose)) {}

std::string ViewCache::key(const crypto::Digest& blob, const crypto::Digest& diff_id) const {
  const std::string& program = util::program_build_id();
  if (program.empty() || blob.empty()) {
    return {};
  }
  image::LayerKey key("view");
  key.add("program", program)
      .add("purpose", m_purpose)
      .add("blob", blob.str())
      .add("diff-id", diff_id.empty() ? "" : diff_id.str());
  return key.hex();
}

std::optional<ImageView::LayerRead> ViewCache::lookup(const std::string& key) const {
  std::optional<std::string> bytes = m_records.lookup(key);
  if (!bytes) {
    return std::nullopt;
  }
  std::optional<ImageView::LayerRead> read = decode_layer_read(*bytes);
  if (!read) {
    m_records.remove(key);
  }
  return read;
}

Status ViewCache::store(const std::string& key, const ImageView::LayerRead& read) const {
  if (key.empty()) {
    return {};  // keeps nothing: not worth encoding
  }
  return m_records.store(key, encode_layer_read(read));
}

ImageView::Recall ViewCache::recall(std::vector<crypto::Digest> blobs,
                                    std::vector<crypto::Digest> diff_ids,
                                    std::vector<bool> always_read) const {
  auto key_of = [this, blobs = std::move(blobs), diff_ids = std::move(diff_ids),
                 always_read = std::move(always_read)](size_t layer) -> std::string {
    if (layer >= blobs.size() || (layer < always_read.size() && always_read[layer])) {
      return {};
    }
    return key(blobs[layer], layer < diff_ids.size() ? diff_ids[layer] : crypto::Digest{});
  };
  ImageView::Recall recall;
  recall.find = [this, key_of](size_t layer) { return lookup(key_of(layer)); };
  recall.keep = [this, key_of](size_t layer, const ImageView::LayerRead& read) {
    return store(key_of(layer), read);
  };
  return recall;
}

}  // namespace distill::check
