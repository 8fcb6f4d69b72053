#include "image/package_group.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "archive/decompress.hpp"
#include "image/library_catalog.hpp"
#include "util/file_io.hpp"

namespace distill::image {

namespace {

constexpr int k_record_version = 1;
constexpr uint64_t k_block = 512;

// A recorded layer of the same names, its blob read and verified.
struct Previous {
  std::string blob;  // the compressed layer, as its digest names it
  std::vector<PackageSegment> segments;
};

std::optional<std::vector<PackageSegment>> parse_segments(const std::string& text, std::string& key,
                                                          std::string& digest) {
  try {
    auto json = nlohmann::json::parse(text);
    if (json.at("version").get<int>() != k_record_version) {
      return std::nullopt;
    }
    key = json.at("key").get<std::string>();
    digest = json.at("digest").get<std::string>();
    std::vector<PackageSegment> out;
    for (const auto& p : json.at("packages")) {
      PackageSegment s;
      s.name = p.at("name").get<std::string>();
      s.arch = p.at("arch").get<std::string>();
      s.sha256 = p.at("sha256").get<std::string>();
      s.start = p.at("start").get<uint64_t>();
      s.end = p.at("end").get<uint64_t>();
      s.directories = p.at("directories").get<std::vector<std::string>>();
      out.push_back(std::move(s));
    }
    return out;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged record: the layer is made from the .debs
  }
}

bool same_package(const PackageSegment& s, const InstalledPackage& p) {
  return s.name == p.name && s.arch == p.arch && s.sha256 == p.sha256.hex();
}

// Whether a 512-byte block is a ustar header with a right checksum: where a
// recorded stretch starts, there must be one.
bool is_tar_header(std::string_view block) {
  if (block.size() < k_block || std::memcmp(block.data() + 257, "ustar\0", 6) != 0) {
    return false;
  }
  unsigned sum = 0;
  for (size_t i = 0; i < k_block; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  }
  unsigned recorded = 0;
  for (size_t i = 148; i < 154; ++i) {
    if (block[i] < '0' || block[i] > '7') {
      return false;
    }
    recorded = recorded * 8 + static_cast<unsigned>(block[i] - '0');
  }
  return recorded == sum;
}

// The old layer's tar, read forward member by member.
class OldTar {
 public:
  OldTar(std::string_view blob, const std::string& origin)
      : m_members(blob, archive::k_gzip_chunk_size, origin), m_origin(origin) {}

  // Moves to the member holding tar offset `at` (members are never gone
  // back to); false past the end.
  Result<bool> seek(uint64_t at) {
    while (m_members.offset() + m_members.content().size() <= at) {
      DISTILL_TRY(bool more, m_members.next());
      if (!more) {
        return false;
      }
    }
    return m_members.offset() <= at;
  }

  archive::GzipMemberReader& members() { return m_members; }

  // Copies [from, to) into `writer` as raw tar bytes (`starts_entry`: an
  // entry starts at `from`, and is checked to).
  Status copy(uint64_t from, uint64_t to, bool starts_entry, LayerWriter& writer) {
    while (from < to) {
      DISTILL_TRY(bool found, seek(from));
      if (!found) {
        return make_error(ErrorKind::Corrupt, m_origin + ": the recorded layer ends before byte " +
                                                  std::to_string(to) + " of its tar");
      }
      std::string_view content = m_members.content().substr(from - m_members.offset());
      if (starts_entry && !is_tar_header(content.substr(0, k_block))) {
        // Chunks are whole blocks, so a header never straddles two.
        return make_error(ErrorKind::Corrupt, m_origin + ": the record says an entry starts at " +
                                                  std::to_string(from) +
                                                  " of the layer's tar, and none does");
      }
      starts_entry = false;
      std::string_view piece = content.substr(0, std::min<uint64_t>(to - from, content.size()));
      DISTILL_CHECK(writer.add_raw(piece, {}));
      from += piece.size();
    }
    return {};
  }

 private:
  archive::GzipMemberReader m_members;
  std::string m_origin;
};

}  // namespace

PackageGroupWriter::PackageGroupWriter(const LayerCache& layers, std::filesystem::path cache_dir,
                                       int64_t epoch, archive::Compression compression)
    : m_layers(layers),
      m_cache_dir(std::move(cache_dir)),
      m_epoch(epoch),
      m_compression(compression) {}

std::filesystem::path PackageGroupWriter::record_path() const {
  return m_layers.record_dir() / "groups" / (m_names_key + ".json");
}

Status PackageGroupWriter::write_fresh(
    LayerWriter& writer, const InstalledPackage& package,
    const std::function<Status(const InstalledPackage&)>& await) const {
  DISTILL_CHECK(await(package));
  // The pass that writes a package also catalogs its libraries when that
  // catalog is not stored yet (for ld.so.cache and `trace:`).
  if (has_package_libraries(package, m_cache_dir)) {
    return write_package(writer, package, m_epoch, m_cache_dir);
  }
  LibraryScanner libraries;
  DISTILL_CHECK(write_package(writer, package, m_epoch, m_cache_dir, &libraries));
  store_package_libraries(package, m_cache_dir, libraries.take());
  return {};
}

Status PackageGroupWriter::write(LayerWriter& writer, const std::vector<InstalledPackage>& packages,
                                 const std::function<Status(const InstalledPackage&)>& await) {
  m_segments.clear();
  m_copied = 0;
  m_chunks_reused = 0;
  LayerKey names("package-group");
  names.add("epoch", m_epoch).add("compression", archive::to_string(m_compression));
  for (const auto& p : packages) {
    names.add("package", p.name).add("arch", p.arch);
  }
  m_names_key = names.hex();

  // The recorded layer of the same names, when some of its packages are
  // these and its blob is there, whole.
  std::optional<Previous> previous;
  if (m_compression == archive::Compression::Gzip && packages.size() > 1) {
    std::string key;
    std::string digest;
    auto text = util::read_file(record_path());
    auto segments = text.ok() ? parse_segments(*text, key, digest) : std::nullopt;
    bool usable = segments && segments->size() == packages.size() && key != "";
    bool any_same = false;
    for (size_t i = 0; usable && i < packages.size(); ++i) {
      const auto& s = (*segments)[i];
      usable = s.name == packages[i].name && s.arch == packages[i].arch && s.start <= s.end &&
               s.start == (i == 0 ? 0 : (*segments)[i - 1].end);
      any_same = any_same || same_package(s, packages[i]);
    }
    std::optional<oci::LayerBlob> blob;
    if (usable && any_same) {
      blob = m_layers.lookup(key);
    }
    if (blob && blob->descriptor.digest.str() == digest &&
        segments->back().end + 2 * k_block <= blob->uncompressed_size) {
      // Hashed here, as read: the bytes copied are the ones the digest names.
      auto bytes = util::read_file(blob->file);
      if (bytes.ok() && crypto::sha256(*bytes) == blob->descriptor.digest) {
        previous = Previous{std::move(*bytes), std::move(*segments)};
      }
    }
  }
  // The packages before the first changed one are the recorded layer's
  // first bytes: its whole chunks there are taken compressed as they are.
  std::optional<OldTar> tar;
  uint64_t taken = 0;  // old tar bytes taken as compressed chunks
  if (previous) {
    const auto& old = previous->segments;
    tar.emplace(previous->blob, "layer cache: " + old.front().name + "'s group layer");
    size_t leading = 0;
    while (leading < packages.size() && same_package(old[leading], packages[leading])) {
      ++leading;
    }
    const uint64_t same_until = leading > 0 ? old[leading - 1].end : 0;
    for (;;) {
      DISTILL_TRY(bool more, tar->members().next());
      const auto& m = tar->members();
      if (!more || m.content().size() != archive::k_gzip_chunk_size ||
          m.offset() + m.content().size() > same_until) {
        break;
      }
      DISTILL_CHECK(writer.add_compressed_chunk(m.content(), m.member()));
      taken += m.content().size();
    }
    m_chunks_reused = taken;
  }

  // The directories the recorded layer held before each package.
  std::set<std::string> old_dirs;
  for (size_t i = 0; i < packages.size(); ++i) {
    const auto& p = packages[i];
    // (Not tar_offset(): chunks taken compressed are already counted there.)
    const uint64_t start = m_segments.empty() ? 0 : m_segments.back().end;
    const size_t dirs_before = writer.directories().size();
    const PackageSegment* s = previous ? &previous->segments[i] : nullptr;
    bool copy = s != nullptr && same_package(*s, p) &&
                writer.directories().size() == old_dirs.size() &&
                std::all_of(old_dirs.begin(), old_dirs.end(),
                            [&](const std::string& d) { return writer.has_directory(d); });
    if (copy) {
      if (s->end > taken) {
        Status copied = tar->copy(std::max(s->start, taken), s->end, s->start >= taken, writer);
        if (!copied.ok()) {
          // A record that does not match its layer is dropped: the next
          // build makes this layer from its .debs.
          std::error_code ec;
          std::filesystem::remove(record_path(), ec);
          return copied.error().context("copying " + p.name + " from its group's last layer");
        }
      }
      writer.note_directories(s->directories);
      ++m_copied;
    } else {
      DISTILL_CHECK(write_fresh(writer, p, await));
    }
    if (s != nullptr) {
      old_dirs.insert(s->directories.begin(), s->directories.end());
    }
    const auto& dirs = writer.directories();
    PackageSegment segment{p.name, p.arch, p.sha256.hex(), start, writer.tar_offset(), {}};
    segment.directories.assign(dirs.begin() + static_cast<std::ptrdiff_t>(dirs_before), dirs.end());
    m_segments.push_back(std::move(segment));
  }
  return {};
}

void PackageGroupWriter::record(const std::string& key, const oci::LayerBlob& blob) const {
  if (m_compression != archive::Compression::Gzip || m_segments.size() < 2) {
    return;
  }
  nlohmann::json packages = nlohmann::json::array();
  for (const auto& s : m_segments) {
    packages.push_back({{"name", s.name},
                        {"arch", s.arch},
                        {"sha256", s.sha256},
                        {"start", s.start},
                        {"end", s.end},
                        {"directories", s.directories}});
  }
  nlohmann::json json = {{"version", k_record_version},
                         {"key", key},
                         {"digest", blob.descriptor.digest.str()},
                         {"packages", packages}};
  std::error_code ec;
  std::filesystem::create_directories(record_path().parent_path(), ec);
  // Best effort: without the record, the next layer of these names is made
  // from its .debs.
  (void)util::write_file_atomic(record_path(), json.dump());
}

}  // namespace distill::image
