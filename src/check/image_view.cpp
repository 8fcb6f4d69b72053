// ImageView: see image_view.hpp. Whiteout handling follows the OCI image-spec's
// layer.md ("Whiteouts", "Opaque Whiteout").
#include "check/image_view.hpp"

#include <sys/utsname.h>

#include <deque>
#include <mutex>
#include <set>

#include "archive/tar_reader.hpp"
#include "debian/architecture.hpp"
#include "net/http_client.hpp"
#include "oci/image_ref.hpp"
#include "oci/registry_client.hpp"
#include "util/thread_pool.hpp"

namespace distill::check {

namespace {

constexpr int k_max_symlink_hops = 40;
constexpr size_t k_cache_file_limit = 1U << 20;
constexpr size_t k_cache_total_limit = 16U << 20;
std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") {
      out.emplace_back(part);
    }
    start = end + 1;
  }
  return out;
}

std::string join_components(const std::vector<std::string>& parts) {
  if (parts.empty()) {
    return "/";
  }
  std::string out;
  for (const auto& part : parts) {
    out += '/';
    out += part;
  }
  return out;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos) {
    return "/";
  }
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

struct ImageView::Cache {
  std::mutex mutex;
  std::map<std::string, std::string> files;
  size_t bytes = 0;
};

std::string go_file_mode(const FileInfo& info) {
  std::string out;
  using archive::EntryType;
  if (info.type == EntryType::Directory) {
    out += 'd';
  }
  if (info.type == EntryType::Symlink) {
    out += 'L';
  }
  if (info.type == EntryType::CharDevice || info.type == EntryType::BlockDevice) {
    out += 'D';
  }
  if (info.type == EntryType::Fifo) {
    out += 'p';
  }
  if ((info.mode & 04000) != 0) {
    out += 'u';
  }
  if ((info.mode & 02000) != 0) {
    out += 'g';
  }
  if (info.type == EntryType::CharDevice) {
    out += 'c';
  }
  if ((info.mode & 01000) != 0) {
    out += 't';
  }
  if (out.empty()) {
    out += '-';
  }
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    out += (info.mode & (1U << (8 - i))) != 0 ? letters[i] : '-';
  }
  return out;
}

Result<const oci::LoadedManifest*> select_manifest(const oci::LoadedImage& image,
                                                   std::string_view debian_arch) {
  // Artifacts (an SBOM, a signature beside the images) are not candidates.
  std::vector<const oci::LoadedManifest*> images;
  std::string artifacts;
  for (const auto& manifest : image.manifests) {
    if (!manifest.artifact) {
      images.push_back(&manifest);
    } else if (artifacts.empty()) {
      artifacts = " (" + manifest.descriptor.digest.str() + " is an artifact, " +
                  (manifest.manifest.artifact_type.empty() ? manifest.manifest.config.media_type
                                                           : manifest.manifest.artifact_type) +
                  ")";
    }
  }
  if (images.empty()) {
    return make_error(ErrorKind::NotFound, "the image has no image manifests" + artifacts);
  }
  const bool explicit_arch = !debian_arch.empty();
  std::string arch = explicit_arch ? std::string(debian_arch) : debian::host_architecture();
  oci::Platform want = oci::platform_for_debian_arch(arch);
  for (const auto* candidate : images) {
    const oci::LoadedManifest& manifest = *candidate;
    const oci::Platform& have = manifest.platform;
    std::string have_arch =
        have.architecture.empty() ? manifest.config.architecture : have.architecture;
    std::string have_variant = have.variant.empty() ? manifest.config.variant : have.variant;
    if (have_arch == want.architecture &&
        (have_variant.empty() || want.variant.empty() || have_variant == want.variant)) {
      return &manifest;
    }
  }
  if (!explicit_arch && images.size() == 1) {
    return images.front();
  }
  std::string available;
  for (const auto* manifest : images) {
    available += (available.empty() ? "" : ", ") + manifest->platform.str();
  }
  return make_error(ErrorKind::NotFound,
                    "the image has no manifest for " + want.str() + " (it has: " + available + ")");
}

Status keep_one_platform(oci::LoadedImage& image, std::string_view debian_arch) {
  DISTILL_TRY(const oci::LoadedManifest* chosen, select_manifest(image, debian_arch));
  oci::LoadedManifest kept = *chosen;
  image.manifests = {std::move(kept)};
  image.index.reset();
  image.index_descriptor.reset();
  image.index_json.clear();
  return {};
}

Result<std::unique_ptr<OpenedImage>> open_image(std::string_view ref, std::string_view debian_arch,
                                                const oci::SourceOptions& source) {
  // Usage errors, found before any request.
  if (auto known = debian::check_architecture(debian_arch); !debian_arch.empty() && !known.ok()) {
    return make_error(ErrorKind::InvalidInput, "usage: " + known.error().message);
  }
  if (auto parsed = oci::ImageRef::parse(ref); !parsed.ok()) {
    return make_error(ErrorKind::InvalidInput, "usage: " + parsed.error().message);
  }
  oci::SourceOptions options = source;
  // Of a registry index, only the wanted platform's blobs are fetched.
  std::string arch = debian_arch.empty() ? debian::host_architecture() : std::string(debian_arch);
  options.pull.platform = oci::platform_for_debian_arch(arch);
  auto loaded = oci::open_image(ref, options);
  if (!loaded.ok() && debian_arch.empty() && loaded.error().kind == ErrorKind::NotFound &&
      loaded.error().message.find("no image manifest for") != std::string::npos) {
    // No manifest for the host: an index holding exactly one image still opens.
    options.pull.platform.reset();
    loaded = oci::open_image(ref, options);
  }
  if (!loaded.ok()) {
    return loaded.error();
  }
  auto opened = std::make_unique<OpenedImage>();
  opened->image = std::move(*loaded);
  auto manifest = select_manifest(opened->image, debian_arch);
  if (!manifest.ok()) {
    return manifest.error().context(std::string(ref));
  }
  opened->manifest = *manifest;
  opened->ref = std::string(ref);
  return opened;
}

namespace {

Status check_diff_id_count(const std::vector<std::filesystem::path>& layer_files,
                           const std::vector<crypto::Digest>& diff_ids, const std::string& origin) {
  if (!diff_ids.empty() && diff_ids.size() != layer_files.size()) {
    return make_error(ErrorKind::Corrupt, origin + " has " + std::to_string(layer_files.size()) +
                                              " layers, but its config gives " +
                                              std::to_string(diff_ids.size()) + " diff_ids");
  }
  return {};
}

}  // namespace

Result<ImageView> ImageView::load(const oci::LoadedManifest& manifest, const KeepFn& keep) {
  return load(manifest.layer_files, manifest.descriptor.digest.str(), keep,
              manifest.config.diff_ids);
}

Result<ImageView> ImageView::load(const OpenedImage& image, const KeepFn& keep,
                                  const ScanFn& scan) {
  const oci::LoadedManifest& manifest = *image.manifest;
  return load(manifest.layer_files,
              image.ref.empty() ? manifest.descriptor.digest.str() : image.ref, keep,
              manifest.config.diff_ids, scan);
}

std::string ImageView::layer_origin(size_t index) const {
  return "layer " + std::to_string(index) + " of " + m_origin;
}

Result<ImageView> ImageView::load(const std::vector<std::filesystem::path>& layer_files,
                                  const std::string& origin, const KeepFn& keep,
                                  const std::vector<crypto::Digest>& diff_ids, const ScanFn& scan,
                                  const Recall& recall) {
  DISTILL_CHECK(check_diff_id_count(layer_files, diff_ids, origin));
  ImageView view;
  view.m_layers = layer_files;
  view.m_diff_ids = diff_ids;
  view.m_uncompressed.resize(layer_files.size());
  view.m_origin = origin;
  view.m_cache = std::make_shared<Cache>();
  Kept kept;
  DISTILL_CHECK(view.read_and_apply(0, {}, keep, &kept, scan, recall));
  view.cache_kept(kept);
  return view;
}

// A kept file goes into the cache under its path in the final view, if that
// path still takes it from the layer it was read in.
void ImageView::cache_kept(Kept& kept) {
  if (kept.empty()) {
    return;
  }
  for (const auto& [path, info] : m_files) {
    if (info.type != archive::EntryType::File) {
      continue;
    }
    if (auto it = kept.find({info.layer, info.entry}); it != kept.end()) {
      remember(path, std::move(it->second));
    }
  }
}

void ImageView::remember(const std::string& path, std::string data, WhenFull full) const {
  if (data.size() > k_cache_file_limit) {
    return;
  }
  std::lock_guard<std::mutex> lock(m_cache->mutex);
  if (m_cache->bytes + data.size() > k_cache_total_limit) {
    if (full == WhenFull::Skip) {
      return;
    }
    m_cache->files.clear();
    m_cache->bytes = 0;
  }
  size_t size = data.size();
  if (m_cache->files.emplace(path, std::move(data)).second) {
    m_cache->bytes += size;
  }
}

Result<ImageView> ImageView::load(const std::vector<std::filesystem::path>& layer_files,
                                  const std::string& origin, const ImageView& prefix,
                                  const std::vector<const LayerEntries*>& known,
                                  const std::vector<crypto::Digest>& diff_ids) {
  DISTILL_CHECK(check_diff_id_count(layer_files, diff_ids, origin));
  if (prefix.m_layers.size() > layer_files.size()) {
    return make_error(ErrorKind::Internal, origin + ": a prefix of " +
                                               std::to_string(prefix.m_layers.size()) +
                                               " layers is longer than the image");
  }
  ImageView view;
  view.m_layers = layer_files;
  view.m_diff_ids = diff_ids;
  view.m_uncompressed.resize(layer_files.size());
  view.m_origin = origin;
  // Its own cache: the same path may hold other bytes here than in `prefix`'s image.
  view.m_cache = std::make_shared<Cache>();
  view.m_files = prefix.m_files;
  DISTILL_CHECK(view.read_and_apply(prefix.m_layers.size(), known));
  return view;
}

Result<ImageView::LayerEntries> ImageView::read_entries(const std::filesystem::path& layer_file,
                                                        const std::string& origin,
                                                        const crypto::Digest& diff_id) {
  DISTILL_TRY(LayerRead read, read_layer_file(layer_file, origin, diff_id, 0, {}, {}));
  return std::move(read.entries);
}

// Resolves the parent directories of `path` through the view's symlinks (missing
// components are kept literally); the final component is not followed.
std::string ImageView::resolve_parent(const std::string& path) const {
  std::vector<std::string> parts = split_components(path);
  if (parts.empty()) {
    return "/";
  }
  std::string last = parts.back();
  parts.pop_back();
  std::deque<std::string> todo(parts.begin(), parts.end());
  std::vector<std::string> done;
  int hops = 0;
  bool missing = false;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == "..") {
      if (!done.empty()) {
        done.pop_back();
      }
      continue;
    }
    done.push_back(part);
    if (missing) {
      continue;
    }
    auto it = m_files.find(join_components(done));
    if (it == m_files.end()) {
      missing = true;
      continue;
    }
    if (it->second.is_symlink() && hops < k_max_symlink_hops) {
      ++hops;
      done.pop_back();
      const std::string& target = it->second.link_target;
      if (!target.empty() && target[0] == '/') {
        done.clear();
      }
      std::vector<std::string> target_parts = split_components(target);
      todo.insert(todo.begin(), target_parts.begin(), target_parts.end());
    }
  }
  if (last == "..") {
    if (!done.empty()) {
      done.pop_back();
    }
    return join_components(done);
  }
  done.push_back(last);
  return join_components(done);
}

Result<std::string> ImageView::resolve(std::string_view path) const {
  std::deque<std::string> todo;
  for (auto& part : split_components(path)) {
    todo.push_back(std::move(part));
  }
  std::vector<std::string> done;
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == "..") {
      if (!done.empty()) {
        done.pop_back();
      }
      continue;
    }
    done.push_back(part);
    std::string current = join_components(done);
    auto it = m_files.find(current);
    if (it == m_files.end()) {
      return make_error(ErrorKind::NotFound, std::string(path) + ": no such file in the image (" +
                                                 current + " is missing)");
    }
    if (it->second.is_symlink()) {
      if (++hops > k_max_symlink_hops) {
        return make_error(ErrorKind::InvalidInput,
                          std::string(path) + ": too many levels of symbolic links");
      }
      done.pop_back();
      const std::string& target = it->second.link_target;
      if (!target.empty() && target[0] == '/') {
        done.clear();
      }
      std::vector<std::string> target_parts = split_components(target);
      todo.insert(todo.begin(), target_parts.begin(), target_parts.end());
      continue;
    }
    if (!it->second.is_dir() && !todo.empty()) {
      return make_error(ErrorKind::NotFound,
                        std::string(path) + ": " + current + " is not a directory");
    }
  }
  return join_components(done);
}

const FileInfo* ImageView::lstat(std::string_view path) const {
  std::string key = join_components(split_components(path));
  auto it = m_files.find(key);
  return it == m_files.end() ? nullptr : &it->second;
}

const FileInfo* ImageView::stat(std::string_view path) const {
  auto resolved = resolve(path);
  if (!resolved.ok()) {
    return nullptr;
  }
  static const FileInfo k_root{archive::EntryType::Directory, 0755};
  if (*resolved == "/") {
    return &k_root;
  }
  return lstat(*resolved);
}

std::vector<std::string> ImageView::list_dir(std::string_view path) const {
  std::vector<std::string> out;
  auto resolved = resolve(path);
  if (!resolved.ok()) {
    return out;
  }
  std::string prefix = *resolved == "/" ? "/" : *resolved + "/";
  for (auto it = m_files.lower_bound(prefix); it != m_files.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) {
      break;
    }
    std::string rest = it->first.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) {
      out.push_back(rest);
    }
  }
  return out;
}

void ImageView::erase_tree(const std::string& path, size_t below_layer, bool keep_self) {
  std::string prefix = path == "/" ? "/" : path + "/";
  bool kept_inside = false;  // what the whiting-out layer itself put there
  auto it = m_files.lower_bound(prefix);
  while (it != m_files.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    if (it->second.layer < below_layer) {
      it = m_files.erase(it);
    } else {
      kept_inside = true;
      ++it;
    }
  }
  // A whiteout hides the lower layers only: a directory its own layer filled
  // (a/b/g before a/.wh.b, in one layer) stays, with the files it holds.
  if (!keep_self && !kept_inside) {
    auto self = m_files.find(path);
    if (self != m_files.end() && self->second.layer < below_layer) {
      m_files.erase(self);
    }
  }
}

void ImageView::insert(const std::string& path, FileInfo info) {
  // Implied parent directories.
  for (std::string parent = parent_of(path); parent != "/"; parent = parent_of(parent)) {
    if (m_files.count(parent) != 0) {
      break;
    }
    FileInfo dir;
    dir.type = archive::EntryType::Directory;
    dir.mode = 0755;
    dir.layer = info.layer;
    m_files.emplace(parent, dir);
  }
  auto it = m_files.find(path);
  if (it != m_files.end() && it->second.is_dir() && !info.is_dir()) {
    erase_tree(path, SIZE_MAX, true);
  }
  m_files[path] = std::move(info);
}

void ImageView::apply_entry(size_t index, size_t position, const archive::TarEntry& entry) {
  const std::string raw = "/" + entry.path;
  const std::string base = base_of(raw);
  if (base == ".wh..wh..opq") {
    std::string dir = resolve_parent(parent_of(raw));
    if (dir != "/" || parent_of(raw) == "/") {
      erase_tree(dir, index, true);
    }
    return;
  }
  if (base.rfind(".wh.", 0) == 0) {
    std::string target = parent_of(raw);
    target = (target == "/" ? "" : target) + "/" + base.substr(4);
    erase_tree(resolve_parent(target), index, false);
    return;
  }
  FileInfo info;
  info.type = entry.type;
  info.mode = entry.mode;
  info.uid = entry.uid;
  info.gid = entry.gid;
  info.size = entry.size;
  info.layer = index;
  info.tar_path = entry.path;
  info.entry = position;
  info.mtime = entry.mtime;
  if (entry.type == archive::EntryType::Symlink) {
    info.link_target = entry.link_target;
  } else if (entry.type == archive::EntryType::Hardlink) {
    info.link_target = "/" + entry.link_target;
    if (const FileInfo* target = lstat(resolve_parent(info.link_target))) {
      info.size = target->size;
      info.mode = target->mode;
      info.uid = target->uid;
      info.gid = target->gid;
    }
  }
  insert(resolve_parent(raw), std::move(info));
}

Result<ImageView::LayerRead> ImageView::read_layer_file(const std::filesystem::path& layer_file,
                                                        const std::string& origin,
                                                        const crypto::Digest& diff_id, size_t index,
                                                        const KeepFn& keep, const ScanFn& scan) {
  LayerRead read;
  auto on_entry = [&](const archive::TarEntry& entry, archive::ContentReader& reader) -> Status {
    const size_t position = read.entries.size();
    read.entries.push_back(entry);
    if (entry.type != archive::EntryType::File) {
      return {};
    }
    if (keep && entry.size <= k_cache_file_limit && keep(entry.path)) {
      DISTILL_TRY(std::string data, reader.read_all());
      std::string& held = read.kept[position] = std::move(data);
      if (scan) {
        archive::MemoryContentReader again(held);
        DISTILL_CHECK(scan(index, position, entry, again));
      }
    } else if (scan) {
      DISTILL_CHECK(scan(index, position, entry, reader));
    }
    return {};
  };
  if (!diff_id.empty()) {
    DISTILL_TRY(read.uncompressed,
                archive::for_each_tar_entry_verified(layer_file, diff_id, on_entry, origin));
  } else {
    DISTILL_CHECK(archive::for_each_layer_entry(layer_file, on_entry, origin));
  }
  return read;
}

Status ImageView::read_and_apply(size_t from, const std::vector<const LayerEntries*>& known,
                                 const KeepFn& keep, Kept* kept, const ScanFn& scan,
                                 const Recall& recall) {
  std::vector<size_t> unknown;
  for (size_t i = from; i < m_layers.size(); ++i) {
    if (i >= known.size() || known[i] == nullptr) {
      unknown.push_back(i);
    }
  }
  std::vector<std::optional<Result<LayerRead>>> reads(m_layers.size());
  util::parallel_for(unknown.size(), util::default_jobs(), [&](size_t n) {
    const size_t i = unknown[n];
    if (recall.find) {
      if (std::optional<LayerRead> before = recall.find(i)) {
        reads[i] = std::move(*before);
        return;
      }
    }
    reads[i] = read_layer_file(m_layers[i], layer_origin(i),
                               i < m_diff_ids.size() ? m_diff_ids[i] : crypto::Digest{}, i,
                               kept != nullptr ? keep : KeepFn{}, scan);
    if (recall.keep && reads[i]->ok()) {
      if (Status kept_now = recall.keep(i, **reads[i]); !kept_now.ok()) {
        reads[i] = std::move(kept_now).error();
      }
    }
  });
  for (size_t i = from; i < m_layers.size(); ++i) {
    const LayerEntries* entries = i < known.size() ? known[i] : nullptr;
    if (reads[i]) {
      if (!reads[i]->ok()) {
        return std::move(*reads[i]).error();
      }
      LayerRead& read = **reads[i];
      m_uncompressed[i] = read.uncompressed;
      if (kept != nullptr) {
        for (auto& [position, data] : read.kept) {
          kept->emplace(std::pair{i, position}, std::move(data));
        }
      }
      entries = &read.entries;
    }
    for (size_t position = 0; position < entries->size(); ++position) {
      apply_entry(i, position, (*entries)[position]);
    }
    reads[i].reset();  // its entries, no longer needed
  }
  return {};
}

Status ImageView::for_each_content(const WantFn& want, const ContentFn& fn) const {
  // Per layer: the positions of the regular files the view still takes from it.
  std::vector<std::map<size_t, std::string>> wanted(m_layers.size());
  for (const auto& [path, info] : m_files) {
    if (info.type == archive::EntryType::File && info.layer < m_layers.size() &&
        !info.tar_path.empty() && want(path, info)) {
      wanted[info.layer].emplace(info.entry, path);
    }
  }
  for (size_t i = 0; i < m_layers.size(); ++i) {
    if (wanted[i].empty()) {
      continue;
    }
    auto next = wanted[i].begin();
    size_t position = 0;
    auto on_entry = [&](const archive::TarEntry& entry,
                        archive::ContentReader& reader) -> Result<archive::TarNext> {
      if (position++ != next->first) {
        return archive::TarNext::Continue;
      }
      const std::string& path = next->second;
      const FileInfo& info = m_files.at(path);
      if (entry.type != archive::EntryType::File || entry.path != info.tar_path) {
        return make_error(ErrorKind::Corrupt, layer_origin(i) + ": entry " +
                                                  std::to_string(next->first) + " is " +
                                                  entry.path + ", not " + info.tar_path +
                                                  " as when the image was read first");
      }
      DISTILL_CHECK(fn(path, info, reader));
      return ++next == wanted[i].end() ? archive::TarNext::Stop : archive::TarNext::Continue;
    };
    // Read again, not checked again (with diff_ids, it was as the view was
    // folded), and only as far as the last file wanted.
    DISTILL_CHECK(archive::for_each_layer_entry(m_layers[i], on_entry, layer_origin(i)));
  }
  return {};
}

Result<std::map<std::string, std::string>> ImageView::read_files(
    const std::vector<std::string>& paths) const {
  std::map<std::string, std::string> out;
  // requested path -> canonical path of the regular file (hard links: their target).
  std::map<std::string, std::vector<std::string>> by_canonical;
  for (const auto& path : paths) {
    auto resolved = resolve(path);
    if (!resolved.ok()) {
      continue;
    }
    const FileInfo* info = lstat(*resolved);
    if (info == nullptr || !info->is_regular()) {
      continue;
    }
    std::string canonical = *resolved;
    if (info->type == archive::EntryType::Hardlink) {
      auto target = resolve(info->link_target);
      const FileInfo* target_info = target.ok() ? lstat(*target) : nullptr;
      if (target_info == nullptr || target_info->type != archive::EntryType::File) {
        continue;
      }
      canonical = *target;
    }
    {
      std::lock_guard<std::mutex> lock(m_cache->mutex);
      auto cached = m_cache->files.find(canonical);
      if (cached != m_cache->files.end()) {
        out[path] = cached->second;
        continue;
      }
    }
    by_canonical[canonical].push_back(path);
  }
  if (by_canonical.empty()) {
    return out;
  }
  auto want = [&](const std::string& path, const FileInfo&) {
    return by_canonical.count(path) != 0;
  };
  auto on_content = [&](const std::string& path, const FileInfo&,
                        archive::ContentReader& reader) -> Status {
    DISTILL_TRY(std::string data, reader.read_all());
    remember(path, data, WhenFull::Evict);
    for (const auto& requested : by_canonical[path]) {
      out[requested] = data;
    }
    return {};
  };
  DISTILL_CHECK(for_each_content(want, on_content));
  return out;
}

Status ImageView::prefetch(const KeepFn& keep) const {
  auto want = [&](const std::string& path, const FileInfo& info) {
    if (info.size > k_cache_file_limit || !keep(info.tar_path)) {
      return false;
    }
    std::lock_guard<std::mutex> lock(m_cache->mutex);
    return m_cache->files.count(path) == 0;
  };
  auto on_content = [&](const std::string& path, const FileInfo&,
                        archive::ContentReader& reader) -> Status {
    DISTILL_TRY(std::string data, reader.read_all());
    remember(path, std::move(data));
    return {};
  };
  return for_each_content(want, on_content);
}

Result<std::string> ImageView::read_file(std::string_view path) const {
  DISTILL_TRY(std::string resolved, resolve(path));
  const FileInfo* info = lstat(resolved);
  if (info == nullptr || !info->is_regular()) {
    return make_error(ErrorKind::InvalidInput,
                      std::string(path) + ": not a regular file in the image");
  }
  DISTILL_TRY(auto files, read_files({std::string(path)}));
  auto it = files.find(std::string(path));
  if (it == files.end()) {
    return make_error(ErrorKind::NotFound,
                      std::string(path) + ": content not found in " + m_origin);
  }
  return std::move(it->second);
}

}  // namespace distill::check
