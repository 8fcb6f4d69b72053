// diff_images and its renderings: see image_diff.hpp.
#include "check/image_diff.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "archive/decompress.hpp"
#include "check/image_view.hpp"
#include "check/json_text.hpp"
#include "check/packages.hpp"
#include "crypto/sha256.hpp"
#include "util/text.hpp"
#include "util/thread_pool.hpp"

namespace distill::check {

namespace {

using archive::EntryType;

// What identifies a layer's content: its diff_id (the digest when the config
// lists none for it).
std::vector<std::string> layer_keys(const oci::LoadedManifest& manifest) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < manifest.manifest.layers.size(); ++i) {
    keys.push_back(i < manifest.config.diff_ids.size() ? manifest.config.diff_ids[i].str()
                                                       : manifest.manifest.layers[i].digest.str());
  }
  return keys;
}

// The created_by of each layer, from the history entries that are not empty layers.
std::vector<std::string> layer_history(const oci::LoadedManifest& manifest) {
  std::vector<std::string> out;
  for (const auto& entry : manifest.config.history) {
    if (!entry.empty_layer) {
      out.push_back(entry.created_by);
    }
  }
  out.resize(std::max(out.size(), manifest.manifest.layers.size()));
  return out;
}

LayerDiff diff_layers(const oci::LoadedManifest& a, const oci::LoadedManifest& b) {
  LayerDiff out;
  const auto keys_a = layer_keys(a);
  const auto keys_b = layer_keys(b);
  while (out.common_prefix < keys_a.size() && out.common_prefix < keys_b.size() &&
         keys_a[out.common_prefix] == keys_b[out.common_prefix]) {
    ++out.common_prefix;
  }
  out.same_stack = keys_a == keys_b;
  const auto history_a = layer_history(a);
  const auto history_b = layer_history(b);
  auto side = [](const oci::LoadedManifest& manifest, const std::vector<std::string>& keys,
                 const std::vector<std::string>& history, size_t index) {
    return LayerSide{index, keys[index], manifest.manifest.layers[index].digest.str(),
                     manifest.manifest.layers[index].size, history[index]};
  };
  std::vector<bool> used(keys_a.size(), false);
  for (size_t j = 0; j < keys_b.size(); ++j) {
    bool found = false;
    for (size_t i = 0; i < keys_a.size(); ++i) {
      if (!used[i] && keys_a[i] == keys_b[j]) {
        used[i] = true;
        out.shared.push_back({keys_b[j], i, j});
        found = true;
        break;
      }
    }
    if (!found) {
      out.only_b.push_back(side(b, keys_b, history_b, j));
    }
  }
  for (size_t i = 0; i < keys_a.size(); ++i) {
    if (!used[i]) {
      out.only_a.push_back(side(a, keys_a, history_a, i));
    }
  }
  return out;
}

// --- config -----------------------------------------------------------------

void diff_value(std::vector<ConfigChange>& out, const std::string& field, const std::string& key,
                const nlohmann::json& a, const nlohmann::json& b) {
  if (a == b) {
    return;
  }
  Change change = a.is_null() ? Change::Added : b.is_null() ? Change::Removed : Change::Changed;
  out.push_back({change, field, key, a, b});
}

nlohmann::json optional_text(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json(text);
}

nlohmann::json optional_list(const std::optional<std::vector<std::string>>& list) {
  return list ? nlohmann::json(*list) : nlohmann::json();
}

void diff_map(std::vector<ConfigChange>& out, const std::string& field,
              const std::map<std::string, std::string>& a,
              const std::map<std::string, std::string>& b) {
  std::set<std::string> keys;
  for (const auto& [key, value] : a) {
    keys.insert(key);
  }
  for (const auto& [key, value] : b) {
    keys.insert(key);
  }
  for (const auto& key : keys) {
    auto in_a = a.find(key);
    auto in_b = b.find(key);
    diff_value(out, field, key, in_a == a.end() ? nlohmann::json() : nlohmann::json(in_a->second),
               in_b == b.end() ? nlohmann::json() : nlohmann::json(in_b->second));
  }
}

void diff_set(std::vector<ConfigChange>& out, const std::string& field,
              const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::set<std::string> set_a(a.begin(), a.end());
  std::set<std::string> set_b(b.begin(), b.end());
  std::set<std::string> all = set_a;
  all.insert(set_b.begin(), set_b.end());
  for (const auto& item : all) {
    bool in_a = set_a.count(item) != 0;
    bool in_b = set_b.count(item) != 0;
    if (in_a != in_b) {
      out.push_back({in_a ? Change::Removed : Change::Added, field, item, nlohmann::json(),
                     nlohmann::json()});
    }
  }
}

std::vector<ConfigChange> diff_config(const oci::ImageConfig& a, const oci::ImageConfig& b) {
  std::vector<ConfigChange> out;
  diff_value(out, "cmd", "", optional_list(a.cmd), optional_list(b.cmd));
  diff_value(out, "entrypoint", "", optional_list(a.entrypoint), optional_list(b.entrypoint));
  diff_map(out, "env", oci::env_map(a.env), oci::env_map(b.env));
  diff_map(out, "label", a.labels, b.labels);
  diff_set(out, "port", a.exposed_ports, b.exposed_ports);
  diff_value(out, "stop_signal", "", optional_text(a.stop_signal), optional_text(b.stop_signal));
  diff_value(out, "user", "", optional_text(a.user), optional_text(b.user));
  diff_set(out, "volume", a.volumes, b.volumes);
  diff_value(out, "workdir", "", optional_text(a.working_dir), optional_text(b.working_dir));
  return out;
}

// --- files --------------------------------------------------------------------

FileState state_of(const FileInfo& info) {
  return FileState{
      info.type,        info.mode, info.uid, info.gid, info.is_regular() ? info.size : 0,
      info.link_target, ""};
}

// One image, with what identifies the content of its layers.
struct Side {
  const ImageView* view = nullptr;
  std::vector<std::string> keys;  // layer_keys
};

// Whether both entries are the same member of layers with the same content:
// then they are identical in every respect, content included.
bool same_source(const FileInfo& a, const Side& side_a, const FileInfo& b, const Side& side_b) {
  return !a.tar_path.empty() && a.tar_path == b.tar_path && a.entry == b.entry &&
         a.layer < side_a.keys.size() && b.layer < side_b.keys.size() &&
         side_a.keys[a.layer] == side_b.keys[b.layer] && a.type == b.type &&
         a.type != EntryType::Hardlink;
}

// Differences other than content (which needs the bytes).
std::vector<std::string> metadata_changes(const FileInfo& a, const FileInfo& b) {
  if (a.type != b.type) {
    return {"type"};
  }
  std::vector<std::string> what;
  if (a.type == EntryType::File && a.size != b.size) {
    what.emplace_back("size");
  }
  if (a.type != EntryType::Symlink && a.mode != b.mode) {
    what.emplace_back("mode");
  }
  if (a.uid != b.uid || a.gid != b.gid) {
    what.emplace_back("owner");
  }
  if ((a.type == EntryType::Symlink || a.type == EntryType::Hardlink) &&
      a.link_target != b.link_target) {
    what.emplace_back("target");
  }
  return what;
}

// Hashes the regular files `hash` names, keeping the bytes of those `keep` names.
struct HashJob {
  std::set<std::string> hash;
  std::set<std::string> keep;
  std::map<std::string, std::string> digests;
  std::map<std::string, std::string> kept;
};

Status run_hash_job(const ImageView& view, HashJob& job) {
  auto want = [&](const std::string& path, const FileInfo&) {
    return job.hash.count(path) != 0 || job.keep.count(path) != 0;
  };
  auto on_content = [&](const std::string& path, const FileInfo&,
                        archive::ContentReader& reader) -> Status {
    crypto::Sha256 hasher;
    if (job.keep.count(path) != 0) {
      DISTILL_TRY(std::string data, reader.read_all());
      hasher.update(data);
      job.kept[path] = std::move(data);
    } else {
      std::string buffer(1U << 16, '\0');
      while (true) {
        DISTILL_TRY(size_t got, reader.read(buffer.data(), buffer.size()));
        if (got == 0) {
          break;
        }
        hasher.update(buffer.data(), got);
      }
    }
    job.digests[path] = hasher.finish().str();
    return {};
  };
  return view.for_each_content(want, on_content);
}

// Runs two tasks at once; the first failure wins.
Status both(const std::function<Status()>& first, const std::function<Status()>& second) {
  Status results[2];
  util::parallel_for(2, 2, [&](size_t i) { results[i] = i == 0 ? first() : second(); });
  return !results[0].ok() ? results[0] : results[1];
}

// The status files of a view, canonical (symlinks resolved).
std::set<std::string> canonical_status_files(const ImageView& view) {
  std::set<std::string> out;
  for (const auto& path : status_files(view)) {
    auto resolved = view.resolve(path);
    if (resolved.ok()) {
      out.insert(*resolved);
    }
  }
  return out;
}

// The contents of `paths`, from what the hash pass kept, else read.
Result<std::map<std::string, std::string>> status_contents(
    const ImageView& view, const std::set<std::string>& paths,
    std::map<std::string, std::string>& kept) {
  std::map<std::string, std::string> out;
  std::vector<std::string> missing;
  for (const auto& path : paths) {
    auto it = kept.find(path);
    if (it != kept.end()) {
      out[path] = std::move(it->second);
    } else {
      missing.push_back(path);
    }
  }
  DISTILL_TRY(auto read, view.read_files(missing));
  out.merge(read);
  return out;
}

std::vector<PackageChange> diff_packages(const std::vector<PackageRecord>& a,
                                         const std::vector<PackageRecord>& b) {
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> versions;
  for (const auto& package : a) {
    versions[{package.name, package.arch}].first = package.version;
  }
  for (const auto& package : b) {
    versions[{package.name, package.arch}].second = package.version;
  }
  std::vector<PackageChange> out;
  for (const auto& [key, pair] : versions) {
    if (pair.first == pair.second) {
      continue;
    }
    Change change = pair.first.empty()    ? Change::Added
                    : pair.second.empty() ? Change::Removed
                                          : Change::Changed;
    out.push_back({change, key.first, key.second, pair.first, pair.second});
  }
  return out;
}

struct FileDiff {
  std::vector<FileChange> files;
  std::vector<PackageChange> packages;
};

Result<FileDiff> diff_files(const Side& a, const Side& b) {
  const auto& files_a = a.view->files();
  const auto& files_b = b.view->files();
  FileDiff out;
  // Entries both images have whose content must be read to be compared.
  std::vector<size_t> pending;
  HashJob job_a;
  HashJob job_b;
  auto ia = files_a.begin();
  auto ib = files_b.begin();
  while (ia != files_a.end() || ib != files_b.end()) {
    int order = ia == files_a.end() ? 1 : ib == files_b.end() ? -1 : ia->first.compare(ib->first);
    if (order < 0) {
      out.files.push_back({Change::Removed, ia->first, state_of(ia->second), std::nullopt, {}});
      ++ia;
      continue;
    }
    if (order > 0) {
      out.files.push_back({Change::Added, ib->first, std::nullopt, state_of(ib->second), {}});
      ++ib;
      continue;
    }
    const FileInfo& info_a = ia->second;
    const FileInfo& info_b = ib->second;
    if (!same_source(info_a, a, info_b, b)) {
      FileChange change{Change::Changed, ia->first, state_of(info_a), state_of(info_b),
                        metadata_changes(info_a, info_b)};
      if (info_a.type == EntryType::File && info_b.type == EntryType::File) {
        job_a.hash.insert(ia->first);
        job_b.hash.insert(ib->first);
        pending.push_back(out.files.size());
        out.files.push_back(std::move(change));
      } else if (!change.what.empty()) {
        out.files.push_back(std::move(change));
      }
    }
    ++ia;
    ++ib;
  }

  // The status files that may list other packages in A than in B: those only
  // one image has, and those both have from different layers (hashed anyway).
  const std::set<std::string> status_a = canonical_status_files(*a.view);
  const std::set<std::string> status_b = canonical_status_files(*b.view);
  for (const auto& path : status_a) {
    if (status_b.count(path) == 0 || job_a.hash.count(path) != 0) {
      job_a.keep.insert(path);
    }
  }
  for (const auto& path : status_b) {
    if (status_a.count(path) == 0 || job_b.hash.count(path) != 0) {
      job_b.keep.insert(path);
    }
  }
  DISTILL_CHECK(both([&] { return run_hash_job(*a.view, job_a); },
                     [&] { return run_hash_job(*b.view, job_b); }));

  std::set<std::string> same_content;
  std::vector<bool> drop(out.files.size(), false);
  for (size_t index : pending) {
    FileChange& change = out.files[index];
    change.a->sha256 = job_a.digests[change.path];
    change.b->sha256 = job_b.digests[change.path];
    if (change.a->sha256 != change.b->sha256) {
      change.what.insert(change.what.begin(), "content");
    } else {
      same_content.insert(change.path);
      drop[index] = change.what.empty();
    }
  }
  std::vector<FileChange> kept;
  for (size_t i = 0; i < out.files.size(); ++i) {
    if (!drop[i]) {
      kept.push_back(std::move(out.files[i]));
    }
  }
  out.files = std::move(kept);

  // Packages: only the status files that differ are parsed.
  std::set<std::string> parse_a;
  std::set<std::string> parse_b;
  for (const auto& path : job_a.keep) {
    if (same_content.count(path) == 0) {
      parse_a.insert(path);
    }
  }
  for (const auto& path : job_b.keep) {
    if (same_content.count(path) == 0) {
      parse_b.insert(path);
    }
  }
  DISTILL_TRY(auto text_a, status_contents(*a.view, parse_a, job_a.kept));
  DISTILL_TRY(auto text_b, status_contents(*b.view, parse_b, job_b.kept));
  DISTILL_TRY(auto packages_a, parse_status_files(text_a));
  DISTILL_TRY(auto packages_b, parse_status_files(text_b));
  out.packages = diff_packages(packages_a, packages_b);
  return out;
}

// --- rendering ----------------------------------------------------------------

std::string octal_mode(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", mode & 07777U);
  return text;
}

std::string owner_text(const FileState& state) {
  return std::to_string(state.uid) + ":" + std::to_string(state.gid);
}

nlohmann::json state_json(const FileState& state) {
  nlohmann::json out{{"type", archive::to_string(state.type)},
                     {"mode", octal_mode(state.mode)},
                     {"uid", state.uid},
                     {"gid", state.gid},
                     {"size", state.size}};
  if (!state.link_target.empty()) {
    out["link_target"] = json_text(state.link_target);
  }
  if (!state.sha256.empty()) {
    out["sha256"] = state.sha256;
  }
  return out;
}

nlohmann::json layer_json(const LayerSide& layer) {
  return {{"index", layer.index},
          {"diff_id", layer.diff_id},
          {"digest", layer.digest},
          {"size", layer.size},
          {"created_by", layer.created_by}};
}

nlohmann::json side_json(const DiffSide& side) {
  return {{"ref", side.ref}, {"manifest", side.manifest_digest}, {"platform", side.platform}};
}

const char* mark(Change change) {
  switch (change) {
    case Change::Added:
      return "+";
    case Change::Removed:
      return "-";
    case Change::Changed:
      return "~";
  }
  return "?";
}

// Lines "  M NAME  DETAIL" with the names padded to the widest (at most 60).
struct Section {
  std::vector<std::tuple<std::string, std::string, std::string>> lines;
  void add(Change change, std::string name, std::string detail) {
    lines.emplace_back(mark(change), std::move(name), std::move(detail));
  }
  [[nodiscard]] std::string render(const std::string& title) const {
    if (lines.empty()) {
      return "";
    }
    size_t width = 0;
    for (const auto& [m, name, detail] : lines) {
      width = std::max(width, std::min<size_t>(name.size(), 60));
    }
    std::string out = title + ":\n";
    for (const auto& [m, name, detail] : lines) {
      std::string line = "  ";
      line += m;
      line += ' ';
      line += name;
      if (!detail.empty()) {
        line.append(name.size() < width ? width - name.size() : 0, ' ');
        line += "  " + detail;
      }
      out += line + "\n";
    }
    return out;
  }
};

std::string counts(size_t added, size_t removed, size_t changed) {
  std::vector<std::string> parts;
  if (added != 0) {
    parts.push_back(std::to_string(added) + " added");
  }
  if (removed != 0) {
    parts.push_back(std::to_string(removed) + " removed");
  }
  if (changed != 0) {
    parts.push_back(std::to_string(changed) + " changed");
  }
  return util::join(parts, ", ");
}

template <typename T>
std::string count_changes(const std::vector<T>& items) {
  size_t n[3] = {0, 0, 0};
  for (const auto& item : items) {
    ++n[static_cast<int>(item.change)];
  }
  return counts(n[0], n[1], n[2]);
}

// "file 0644 0:0 12 B", "symlink -> ../lib/x 0:0", "directory 0755 0:0".
std::string describe(const FileState& state) {
  std::string out = archive::to_string(state.type);
  if (state.type == EntryType::Symlink || state.type == EntryType::Hardlink) {
    out += " -> " + state.link_target;
  }
  if (state.type != EntryType::Symlink) {
    out += " " + octal_mode(state.mode);
  }
  out += " " + owner_text(state);
  if (state.type == EntryType::File) {
    out += " " + util::human_size(state.size);
  }
  return out;
}

std::string file_detail(const FileChange& change) {
  if (change.change != Change::Changed) {
    return describe(change.change == Change::Added ? *change.b : *change.a);
  }
  const FileState& a = *change.a;
  const FileState& b = *change.b;
  std::vector<std::string> parts;
  for (const auto& what : change.what) {
    if (what == "type") {
      parts.push_back(describe(a) + " -> " + describe(b));
    } else if (what == "content") {
      parts.emplace_back("content");
    } else if (what == "size") {
      parts.push_back("size " + std::to_string(a.size) + " -> " + std::to_string(b.size));
    } else if (what == "mode") {
      parts.push_back("mode " + octal_mode(a.mode) + " -> " + octal_mode(b.mode));
    } else if (what == "owner") {
      parts.push_back("owner " + owner_text(a) + " -> " + owner_text(b));
    } else if (what == "target") {
      parts.push_back("target " + a.link_target + " -> " + b.link_target);
    }
  }
  return util::join(parts, ", ");
}

std::string config_value(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string layer_line(const LayerSide& layer) {
  std::string digest = layer.digest.substr(layer.digest.find(':') + 1, 12);
  return "#" + std::to_string(layer.index) + " " + digest + " " + util::human_size(layer.size) +
         (layer.created_by.empty() ? "" : "  " + layer.created_by);
}

DiffSide side_of(const oci::LoadedManifest& manifest) {
  DiffSide side;
  side.manifest_digest = manifest.descriptor.digest.str();
  oci::Platform platform = manifest.platform;
  if (platform.architecture.empty()) {
    platform.architecture = manifest.config.architecture;
    platform.variant = manifest.config.variant;
  }
  side.platform = platform.str();
  return side;
}

}  // namespace

const char* to_string(Change change) {
  switch (change) {
    case Change::Added:
      return "added";
    case Change::Removed:
      return "removed";
    case Change::Changed:
      return "changed";
  }
  return "unknown";
}

namespace {

// A layer the two images claim to share (the same diff_id in their configs)
// stands for the same files only if the claim holds: where the blobs differ
// (another compression, or a lie), each must decompress to that diff_id.
Status check_shared_claims(const oci::LoadedManifest& a, const oci::LoadedManifest& b) {
  std::map<std::string, std::map<crypto::Digest, std::filesystem::path>> blobs;  // key -> blobs
  const auto keys_a = layer_keys(a);
  for (size_t i = 0; i < keys_a.size(); ++i) {
    blobs[keys_a[i]].emplace(a.manifest.layers[i].digest, a.layer_files[i]);
  }
  const auto keys_b = layer_keys(b);
  for (size_t j = 0; j < keys_b.size(); ++j) {
    if (auto shared = blobs.find(keys_b[j]); shared != blobs.end()) {
      shared->second.emplace(b.manifest.layers[j].digest, b.layer_files[j]);
    }
  }
  std::vector<std::pair<std::string, std::filesystem::path>> to_check;
  for (const auto& [key, files] : blobs) {
    if (files.size() > 1) {
      for (const auto& [digest, file] : files) {
        to_check.emplace_back(key, file);
      }
    }
  }
  std::vector<Status> checks(to_check.size());
  util::parallel_for(
      to_check.size(), std::max(1U, std::thread::hardware_concurrency()), [&](size_t i) {
        auto tar = archive::uncompressed_digest(to_check[i].second);
        if (!tar.ok()) {
          checks[i] = tar.error();
        } else if (tar->digest.str() != to_check[i].first) {
          checks[i] =
              make_error(ErrorKind::Corrupt, to_check[i].second.string() + " decompresses to " +
                                                 tar->digest.str() + ", not the diff_id " +
                                                 to_check[i].first + " its config gives");
        }
      });
  for (auto& check : checks) {
    DISTILL_CHECK(std::move(check));
  }
  return {};
}

}  // namespace

Result<ImageDiff> diff_manifests(const oci::LoadedManifest& a, const oci::LoadedManifest& b) {
  DISTILL_CHECK(check_shared_claims(a, b));
  ImageDiff diff;
  diff.a = side_of(a);
  diff.b = side_of(b);
  diff.layers = diff_layers(a, b);
  diff.config = diff_config(a.config, b.config);
  if (diff.layers.same_stack) {
    return diff;  // the same layers make the same files and packages
  }
  // The bottom layers the two stacks share are read once.
  const size_t prefix = diff.layers.common_prefix;
  const std::string origin_a = a.descriptor.digest.str();
  const std::string origin_b = b.descriptor.digest.str();
  // Each layer read is checked against its diff_id on the way.
  auto first = [](const auto& all, size_t n) {
    return std::vector(all.begin(),
                       all.begin() + static_cast<std::ptrdiff_t>(std::min(n, all.size())));
  };
  DISTILL_TRY(ImageView shared, ImageView::load(first(a.layer_files, prefix), origin_a, {},
                                                first(a.config.diff_ids, prefix)));
  // Above it, a layer both images hold (elsewhere in the stack) is read once.
  Side side_a{nullptr, layer_keys(a)};
  Side side_b{nullptr, layer_keys(b)};
  std::map<std::string, size_t> above_a;  // key -> index in A
  for (size_t i = prefix; i < side_a.keys.size(); ++i) {
    above_a.emplace(side_a.keys[i], i);
  }
  std::map<std::string, ImageView::LayerEntries> entries;
  std::vector<const ImageView::LayerEntries*> known_a(side_a.keys.size(), nullptr);
  std::vector<const ImageView::LayerEntries*> known_b(side_b.keys.size(), nullptr);
  for (size_t j = prefix; j < side_b.keys.size(); ++j) {
    auto in_a = above_a.find(side_b.keys[j]);
    if (in_a == above_a.end()) {
      continue;
    }
    auto [it, fresh] = entries.try_emplace(side_b.keys[j]);
    if (fresh) {
      DISTILL_TRY(it->second,
                  ImageView::read_entries(
                      a.layer_files[in_a->second],
                      "layer " + std::to_string(in_a->second) + " of " + origin_a,
                      in_a->second < a.config.diff_ids.size() ? a.config.diff_ids[in_a->second]
                                                              : crypto::Digest()));
    }
    known_a[in_a->second] = &it->second;
    known_b[j] = &it->second;
  }
  std::optional<ImageView> view_a;
  std::optional<ImageView> view_b;
  auto load = [&](const oci::LoadedManifest& manifest, const std::string& origin,
                  const std::vector<const ImageView::LayerEntries*>& known,
                  std::optional<ImageView>& view) -> Status {
    DISTILL_TRY(ImageView loaded, ImageView::load(manifest.layer_files, origin, shared, known,
                                                  manifest.config.diff_ids));
    view.emplace(std::move(loaded));
    return {};
  };
  DISTILL_CHECK(both([&] { return load(a, origin_a, known_a, view_a); },
                     [&] { return load(b, origin_b, known_b, view_b); }));
  side_a.view = &*view_a;
  side_b.view = &*view_b;
  DISTILL_TRY(FileDiff files, diff_files(side_a, side_b));
  diff.files = std::move(files.files);
  diff.packages = std::move(files.packages);
  return diff;
}

Result<ImageDiff> diff_images(const DiffRequest& request) {
  auto open = [&](const std::string& ref) -> Result<std::unique_ptr<OpenedImage>> {
    auto opened = open_image(ref, request.debian_arch, request.source);
    if (!opened.ok()) {
      Error error = opened.error();
      if (error.message.find(ref) == std::string::npos) {
        error.message = ref + ": " + error.message;
      }
      return error;
    }
    return opened;
  };
  DISTILL_TRY(auto a, open(request.a));
  DISTILL_TRY(auto b, open(request.b));
  DISTILL_TRY(ImageDiff diff, diff_manifests(*a->manifest, *b->manifest));
  diff.a.ref = request.a;
  diff.b.ref = request.b;
  return diff;
}

nlohmann::json to_json(const ImageDiff& diff) {
  nlohmann::json packages = nlohmann::json::array();
  for (const auto& package : diff.packages) {
    packages.push_back({{"change", to_string(package.change)},
                        {"name", package.name},
                        {"arch", package.arch},
                        {"a", optional_text(package.a_version)},
                        {"b", optional_text(package.b_version)}});
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : diff.files) {
    files.push_back({{"change", to_string(file.change)},
                     {"path", json_text(file.path)},
                     {"what", file.what},
                     {"a", file.a ? state_json(*file.a) : nlohmann::json()},
                     {"b", file.b ? state_json(*file.b) : nlohmann::json()}});
  }
  nlohmann::json config = nlohmann::json::array();
  for (const auto& change : diff.config) {
    config.push_back({{"change", to_string(change.change)},
                      {"field", change.field},
                      {"key", optional_text(change.key)},
                      {"a", change.a},
                      {"b", change.b}});
  }
  nlohmann::json shared = nlohmann::json::array();
  for (const auto& layer : diff.layers.shared) {
    shared.push_back(
        {{"diff_id", layer.diff_id}, {"a_index", layer.a_index}, {"b_index", layer.b_index}});
  }
  nlohmann::json only_a = nlohmann::json::array();
  for (const auto& layer : diff.layers.only_a) {
    only_a.push_back(layer_json(layer));
  }
  nlohmann::json only_b = nlohmann::json::array();
  for (const auto& layer : diff.layers.only_b) {
    only_b.push_back(layer_json(layer));
  }
  return {{"a", side_json(diff.a)},
          {"b", side_json(diff.b)},
          {"identical", diff.identical()},
          {"packages", packages},
          {"files", files},
          {"config", config},
          {"layers",
           {{"same_stack", diff.layers.same_stack},
            {"common_prefix", diff.layers.common_prefix},
            {"shared", shared},
            {"only_a", only_a},
            {"only_b", only_b}}}};
}

std::string to_text(const ImageDiff& diff) {
  if (diff.identical()) {
    return "";
  }
  auto header = [](const char* marks, const DiffSide& side) {
    std::string ref = side.ref.empty() ? "(image)" : side.ref;
    return std::string(marks) + " " + ref + "  " + side.platform + "  " + side.manifest_digest +
           "\n";
  };
  std::string out = header("---", diff.a) + header("+++", diff.b);

  Section packages;
  std::map<std::string, int> arches_of;
  for (const auto& package : diff.packages) {
    ++arches_of[package.name];
  }
  for (const auto& package : diff.packages) {
    std::string name = package.name;
    if (arches_of[name] > 1) {
      name += ":" + package.arch;
    }
    std::string detail = package.change == Change::Added ? package.b_version
                         : package.change == Change::Removed
                             ? package.a_version
                             : package.a_version + " -> " + package.b_version;
    packages.add(package.change, name, detail);
  }
  out += packages.render("Packages (" + count_changes(diff.packages) + ")");

  Section files;
  for (const auto& file : diff.files) {
    files.add(file.change, file.path, file_detail(file));
  }
  out += files.render("Files (" + count_changes(diff.files) + ")");

  Section config;
  for (const auto& change : diff.config) {
    std::string name = change.field + (change.key.empty() ? "" : " " + change.key);
    std::string detail;
    if (change.change == Change::Changed) {
      detail = config_value(change.a) + " -> " + config_value(change.b);
    } else {
      const nlohmann::json& value = change.change == Change::Added ? change.b : change.a;
      detail = value.is_null() ? "" : config_value(value);
    }
    config.add(change.change, name, detail);
  }
  out += config.render("Config (" + count_changes(diff.config) + ")");

  if (!diff.layers.same_stack) {
    const LayerDiff& layers = diff.layers;
    std::string title = "Layers (" + std::to_string(layers.shared.size()) + " shared";
    if (!layers.only_a.empty()) {
      title += ", " + std::to_string(layers.only_a.size()) + " only in A";
    }
    if (!layers.only_b.empty()) {
      title += ", " + std::to_string(layers.only_b.size()) + " only in B";
    }
    if (layers.only_a.empty() && layers.only_b.empty()) {
      title += ", in another order";
    }
    title += ")";
    out += title + ":\n";
    for (const auto& layer : layers.only_a) {
      out += "  - " + layer_line(layer) + "\n";
    }
    for (const auto& layer : layers.only_b) {
      out += "  + " + layer_line(layer) + "\n";
    }
  }
  return out;
}

}  // namespace distill::check
