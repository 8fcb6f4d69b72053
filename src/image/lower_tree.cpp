// See lower_tree.hpp.
#include "image/lower_tree.hpp"

#include <algorithm>
#include <optional>

#include "archive/tar_reader.hpp"
#include "util/file_io.hpp"
#include "util/path_in_root.hpp"
#include "util/text.hpp"

namespace distill::image {

namespace {

constexpr std::string_view k_listing_header = "distill-listing 2\n";
constexpr std::string_view k_whiteout = ".wh.";
constexpr std::string_view k_opaque = ".wh..wh..opq";

void add_entry(LayerListing& out, const archive::TarEntry& e) {
  size_t slash = e.path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : e.path.substr(0, slash);
  std::string name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
  if (name == k_opaque) {
    out.paths.push_back({LayerListing::Kind::Opaque, dir, "", 0, 0, 0});
  } else if (name.rfind(k_whiteout, 0) == 0) {
    std::string removed = name.substr(k_whiteout.size());
    out.paths.push_back(
        {LayerListing::Kind::Whiteout, dir.empty() ? removed : dir + "/" + removed, "", 0, 0, 0});
  } else if (e.type == archive::EntryType::Directory) {
    out.paths.push_back({LayerListing::Kind::Directory, e.path, "", e.mode & 07777, e.uid, e.gid});
  } else if (e.type == archive::EntryType::Symlink) {
    out.paths.push_back({LayerListing::Kind::Symlink, e.path, e.link_target, 0, 0, 0});
  }
}

// One line a path: KIND MODE UID GID, then NUL-terminated path and target.
std::string serialize(const LayerListing& listing) {
  std::string out(k_listing_header);
  for (const auto& p : listing.paths) {
    out += static_cast<char>(p.kind);
    out += std::to_string(p.mode) + " " + std::to_string(p.uid) + " " + std::to_string(p.gid) + " ";
    out += p.path;
    out += '\0';
    out += p.target;
    out += '\0';
  }
  return out;
}

std::optional<uint32_t> number(std::string_view& bytes) {
  size_t space = bytes.find(' ');
  if (space == 0 || space == std::string_view::npos || space > 10) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : bytes.substr(0, space)) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  bytes.remove_prefix(space + 1);
  if (value > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

std::optional<LayerListing> parse(std::string_view bytes) {
  if (bytes.substr(0, k_listing_header.size()) != k_listing_header) {
    return std::nullopt;
  }
  bytes.remove_prefix(k_listing_header.size());
  LayerListing out;
  while (!bytes.empty()) {
    char kind = bytes[0];
    if (kind != 'd' && kind != 'l' && kind != 'w' && kind != 'o') {
      return std::nullopt;
    }
    bytes.remove_prefix(1);
    auto mode = number(bytes);
    auto uid = number(bytes);
    auto gid = number(bytes);
    size_t end_path = bytes.find('\0');
    size_t end_target =
        end_path == std::string_view::npos ? end_path : bytes.find('\0', end_path + 1);
    if (!mode || !uid || !gid || end_target == std::string_view::npos) {
      return std::nullopt;
    }
    out.paths.push_back(
        {static_cast<LayerListing::Kind>(kind), std::string(bytes.substr(0, end_path)),
         std::string(bytes.substr(end_path + 1, end_target - end_path - 1)), *mode, *uid, *gid});
    bytes.remove_prefix(end_target + 1);
  }
  return out;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

LayerListing listing_of(const std::vector<GeneratedEntry>& entries) {
  LayerListing out;
  for (const auto& e : entries) {
    add_entry(out, e.entry);
  }
  return out;
}

LayerListing listing_of(const std::vector<archive::TarEntry>& entries) {
  LayerListing out;
  for (const auto& e : entries) {
    add_entry(out, e);
  }
  return out;
}

Result<LayerListing> layer_listing(const oci::LayerBlob& blob,
                                   const std::filesystem::path& cache_dir) {
  const std::filesystem::path kept = cache_dir / "listings" / blob.descriptor.digest.hex();
  if (auto bytes = util::read_file(kept); bytes.ok()) {
    if (auto listing = parse(*bytes)) {
      return std::move(*listing);
    }
  }
  LayerListing out;
  DISTILL_CHECK(archive::for_each_tar_entry(
      blob.file,
      [&](const archive::TarEntry& e, archive::ContentReader&) -> Status {
        add_entry(out, e);
        return {};
      },
      "layer " + blob.descriptor.digest.str()));
  // Best effort: without it the listing is only read again next time.
  std::error_code ec;
  std::filesystem::create_directories(kept.parent_path(), ec);
  (void)util::write_file_atomic(kept, serialize(out));
  return out;
}

void LowerTree::add_layer(const LayerListing& listing) {
  // A layer's whiteouts hide what is below it, not what it adds itself.
  auto erase_below = [&](const std::string& dir, bool itself) {
    if (itself) {
      m_paths.erase(dir);
    }
    const std::string prefix = dir.empty() ? "" : dir + "/";
    for (auto it = m_paths.lower_bound(prefix);
         it != m_paths.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      it = m_paths.erase(it);
    }
  };
  for (const auto& p : listing.paths) {
    if (p.kind == LayerListing::Kind::Opaque) {
      erase_below(p.path, false);
    } else if (p.kind == LayerListing::Kind::Whiteout) {
      erase_below(p.path, true);
    }
  }
  for (const auto& p : listing.paths) {
    if (p.kind == LayerListing::Kind::Directory) {
      auto it = m_paths.find(p.path);
      if (it != m_paths.end() && it->second.kind == LayerListing::Kind::Symlink) {
        erase_below(p.path, true);  // a directory in place of a link
      }
      m_paths[p.path] = p;
    } else if (p.kind == LayerListing::Kind::Symlink) {
      erase_below(p.path, true);  // a link in place of a directory and what was in it
      m_paths[p.path] = p;
    }
  }
}

const LayerListing::Path* LowerTree::directory(const std::string& path) const {
  auto it = m_paths.find(path);
  return it != m_paths.end() && it->second.kind == LayerListing::Kind::Directory ? &it->second
                                                                                 : nullptr;
}

std::string LowerTree::resolve(const std::string& path, bool whole) const {
  if (m_paths.empty()) {
    return path;
  }
  auto resolved = util::resolve_in_root(
      path,
      [this](const std::string& prefix) -> std::optional<std::string> {
        auto it = m_paths.find(prefix);
        if (it == m_paths.end() || it->second.kind != LayerListing::Kind::Symlink) {
          return std::nullopt;
        }
        return it->second.target;
      },
      whole);
  return resolved ? util::join(*resolved, "/") : path;  // a loop of links: left as it is
}

namespace {

GeneratedEntry directory_over(const std::string& path, const LowerTree& lower, int64_t epoch) {
  const LayerListing::Path* below = lower.directory(path);
  GeneratedEntry dir = below != nullptr
                           ? make_directory(path, below->mode, epoch, below->uid, below->gid)
                           : make_directory(path, 0755, epoch);
  dir.implied = true;
  return dir;
}

}  // namespace

void place_over(std::vector<GeneratedEntry>& entries, const LowerTree& lower, int64_t epoch) {
  std::erase_if(entries, [](const GeneratedEntry& e) { return e.implied; });
  std::vector<GeneratedEntry> placed;
  std::map<std::string, size_t> at;
  for (auto& e : entries) {
    const bool whole = e.entry.type == archive::EntryType::Directory;
    e.entry.path = lower.resolve(e.entry.path, whole);
    if (e.entry.path.empty()) {
      continue;  // a directory that is the root itself
    }
    auto [it, added] = at.emplace(e.entry.path, placed.size());
    if (added) {
      placed.push_back(std::move(e));
    } else {
      placed[it->second] = std::move(e);
    }
  }
  const size_t n = placed.size();
  for (size_t i = 0; i < n; ++i) {
    for (std::string parent = parent_of(placed[i].entry.path); !parent.empty();
         parent = parent_of(parent)) {
      if (at.emplace(parent, placed.size()).second) {
        placed.push_back(directory_over(parent, lower, epoch));
      }
    }
  }
  std::sort(placed.begin(), placed.end(), [](const GeneratedEntry& a, const GeneratedEntry& b) {
    return a.entry.path < b.entry.path;
  });
  entries = std::move(placed);
}

std::vector<GeneratedEntry> directories_over(const std::string& dir, const LowerTree& lower,
                                             int64_t epoch) {
  std::vector<GeneratedEntry> out;
  for (std::string path = dir; !path.empty(); path = parent_of(path)) {
    out.push_back(directory_over(path, lower, epoch));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace distill::image
