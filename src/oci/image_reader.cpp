// Loads images from OCI layouts (image-layout.md), OCI layout tars and
// `docker save` tars (manifest.json), checking each blob against its descriptor.
#include "oci/image_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#include "archive/tar_reader.hpp"
#include "oci/blob_store.hpp"
#include "oci/json_util.hpp"
#include "oci/media_types.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/interrupt.hpp"
#include "util/temp_dir.hpp"
#include "util/thread_pool.hpp"

namespace distill::oci {

namespace {

constexpr int k_max_index_depth = 4;
// Manifests and configs are small; refuse to slurp anything huge as JSON.
constexpr uint64_t k_max_json_blob = 16U << 20;

std::filesystem::path blob_path(const std::filesystem::path& layout, const crypto::Digest& d) {
  return layout / "blobs" / "sha256" / d.hex();
}

Error blob_corrupt(const std::string& origin, const crypto::Digest& digest,
                   const std::string& why) {
  return make_error(ErrorKind::Corrupt, origin + ": blob " + digest.str() + ": " + why);
}

Result<uint64_t> blob_file_size(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return util::errno_error(path, errno);
  }
  return static_cast<uint64_t>(st.st_size);
}

// Reads a small blob and checks its size and digest.
Result<std::string> read_json_blob(const std::filesystem::path& layout,
                                   const Descriptor& descriptor, const std::string& origin) {
  std::filesystem::path path = blob_path(layout, descriptor.digest);
  auto size = blob_file_size(path);
  if (!size.ok()) {
    return blob_corrupt(origin, descriptor.digest, "missing (" + size.error().message + ")");
  }
  if (*size != descriptor.size) {
    return blob_corrupt(
        origin, descriptor.digest,
        "size " + std::to_string(*size) + ", descriptor says " + std::to_string(descriptor.size));
  }
  if (*size > k_max_json_blob) {
    return blob_corrupt(origin, descriptor.digest, "too large for a JSON document");
  }
  DISTILL_TRY(std::string data, util::read_file(path));
  if (crypto::sha256(data) != descriptor.digest) {
    return blob_corrupt(origin, descriptor.digest,
                        "content has digest " + crypto::sha256(data).str());
  }
  return data;
}

// Hashes a layer blob file and checks its size and digest.
Status verify_blob_file(const std::filesystem::path& path, const Descriptor& descriptor,
                        const std::string& origin, bool hash) {
  auto size = blob_file_size(path);
  if (!size.ok()) {
    return blob_corrupt(origin, descriptor.digest, "missing (" + size.error().message + ")");
  }
  if (*size != descriptor.size) {
    return blob_corrupt(
        origin, descriptor.digest,
        "size " + std::to_string(*size) + ", descriptor says " + std::to_string(descriptor.size));
  }
  if (!hash) {
    return {};
  }
  // (digest_file itself does not stop: the layer cache takes its errors for damage.)
  DISTILL_CHECK(util::check_interrupted());
  DISTILL_TRY(FileDigest actual, digest_file(path));
  if (actual.digest != descriptor.digest) {
    return blob_corrupt(origin, descriptor.digest, "content has digest " + actual.digest.str());
  }
  return {};
}

}  // namespace

Status read_config(LoadedManifest& loaded, const std::string& origin) {
  const auto& layers = loaded.manifest.layers;
  loaded.artifact = !is_image_config_media_type(loaded.manifest.config.media_type);
  if (loaded.artifact) {
    return {};
  }
  const std::string what = origin + ": manifest " + loaded.descriptor.digest.str();
  DISTILL_TRY(loaded.config,
              ImageConfig::parse(loaded.config_json,
                                 origin + ": config " + loaded.manifest.config.digest.str()));
  // What umoci refuses too: layers the config does not account for, and
  // layers of a kind no runtime unpacks.
  if (layers.size() != loaded.config.diff_ids.size()) {
    return make_error(ErrorKind::Corrupt,
                      what + " has " + std::to_string(layers.size()) + " layers, its config " +
                          std::to_string(loaded.config.diff_ids.size()) + " diff_ids");
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!is_layer_media_type(layers[i].media_type)) {
      return make_error(ErrorKind::Unsupported, what + ": layer " + std::to_string(i) + " (" +
                                                    layers[i].digest.str() + ") has media type '" +
                                                    layers[i].media_type + "', not a layer's");
    }
  }
  return {};
}

namespace {

Result<LoadedManifest> load_layout_manifest(const std::filesystem::path& layout,
                                            const Descriptor& descriptor, const std::string& origin,
                                            LayerCheck check) {
  LoadedManifest loaded;
  loaded.descriptor = descriptor;
  DISTILL_TRY(loaded.manifest_json, read_json_blob(layout, descriptor, origin));
  DISTILL_TRY(loaded.manifest, Manifest::parse(loaded.manifest_json,
                                               origin + ": manifest " + descriptor.digest.str()));
  DISTILL_TRY(loaded.config_json, read_json_blob(layout, loaded.manifest.config, origin));
  const auto& layers = loaded.manifest.layers;
  DISTILL_CHECK(read_config(loaded, origin));
  for (const auto& layer : layers) {
    loaded.layer_files.push_back(blob_path(layout, layer.digest));
  }
  // The layers are hashed on every core: a consumer waits for this.
  std::vector<Status> checks(layers.size());
  util::parallel_for(
      layers.size(), std::max(1U, std::thread::hardware_concurrency()), [&](size_t i) {
        checks[i] =
            verify_blob_file(loaded.layer_files[i], layers[i], origin, check == LayerCheck::Digest);
      });
  for (auto& layer_check : checks) {
    DISTILL_CHECK(std::move(layer_check));
  }
  if (descriptor.platform) {
    loaded.platform = *descriptor.platform;
  } else {
    loaded.platform = Platform{loaded.config.os, loaded.config.architecture, loaded.config.variant};
  }
  return loaded;
}

Status load_layout_descriptor(const std::filesystem::path& layout, const Descriptor& descriptor,
                              const std::string& origin, LayerCheck check, int depth,
                              LoadedImage& image) {
  if (is_manifest_media_type(descriptor.media_type)) {
    DISTILL_TRY(LoadedManifest manifest, load_layout_manifest(layout, descriptor, origin, check));
    image.manifests.push_back(std::move(manifest));
    return {};
  }
  if (!is_index_media_type(descriptor.media_type)) {
    return {};  // not an image (an artifact, an attestation): skipped
  }
  if (depth >= k_max_index_depth) {
    return make_error(ErrorKind::Corrupt, origin + ": image indexes nested too deeply");
  }
  DISTILL_TRY(std::string json, read_json_blob(layout, descriptor, origin));
  DISTILL_TRY(Index index, Index::parse(json, origin + ": index " + descriptor.digest.str()));
  for (const auto& child : index.manifests) {
    if (child.platform && child.platform->os == "unknown") {
      continue;  // buildkit attestation manifests
    }
    DISTILL_CHECK(load_layout_descriptor(layout, child, origin, check, depth + 1, image));
  }
  if (!image.index) {
    image.index = std::move(index);
    image.index_descriptor = descriptor;
    image.index_json = std::move(json);
  }
  return {};
}

Result<LoadedImage> load_layout(const std::filesystem::path& layout, const std::string& tag,
                                const std::string& origin, LayerCheck check) {
  std::filesystem::path index_path = layout / "index.json";
  auto text = util::read_file(index_path);
  if (!text.ok()) {
    return text.error().context(origin + ": not an OCI layout");
  }
  DISTILL_TRY(Index top, Index::parse(*text, index_path.string()));
  const Descriptor* chosen = nullptr;
  std::string refs;
  for (const auto& descriptor : top.manifests) {
    auto it = descriptor.annotations.find(std::string(k_annotation_ref_name));
    if (it == descriptor.annotations.end()) {
      continue;
    }
    refs += (refs.empty() ? "" : ", ") + it->second;
    if (it->second == tag) {
      chosen = &descriptor;
    }
  }
  // Like skopeo, a layout holding one untagged image serves it as the default.
  if (chosen == nullptr && tag == "latest" && top.manifests.size() == 1 &&
      top.manifests.front().annotations.count(std::string(k_annotation_ref_name)) == 0) {
    chosen = &top.manifests.front();
  }
  if (chosen == nullptr) {
    return make_error(ErrorKind::NotFound, origin + ": no image named \"" + tag +
                                               "\" (has: " + (refs.empty() ? "none" : refs) + ")");
  }
  LoadedImage image;
  DISTILL_CHECK(load_layout_descriptor(layout, *chosen, origin, check, 0, image));
  if (image.manifests.empty()) {
    return make_error(ErrorKind::NotFound, origin + ": \"" + tag + "\" has no image manifests");
  }
  return image;
}

// Extracts regular files and directories of a tar into `dir` (other entry types
// are not part of OCI layouts or docker save output and are skipped).
Status extract_tar(const std::filesystem::path& file, const std::filesystem::path& dir,
                   const std::string& origin) {
  return archive::for_each_tar_entry(
      file,
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        std::filesystem::path target = dir / entry.path;
        std::error_code ec;
        if (entry.type == archive::EntryType::Directory) {
          std::filesystem::create_directories(target, ec);
          if (ec) {
            return make_error(ErrorKind::Io, target.string() + ": " + ec.message());
          }
          return {};
        }
        if (entry.type != archive::EntryType::File) {
          return {};
        }
        std::filesystem::create_directories(target.parent_path(), ec);
        if (ec) {
          return make_error(ErrorKind::Io, target.string() + ": " + ec.message());
        }
        DISTILL_TRY(util::AtomicFile out, util::AtomicFile::create(target, 0644));
        std::string buffer(1 << 16, '\0');
        for (;;) {
          DISTILL_CHECK(util::check_interrupted());
          DISTILL_TRY(size_t n, content.read(buffer.data(), buffer.size()));
          if (n == 0) {
            break;
          }
          DISTILL_CHECK(out.write(buffer.data(), n));
        }
        return out.commit();
      },
      origin);
}

Result<std::shared_ptr<util::TempDir>> extract_to_temp(const std::filesystem::path& file,
                                                       const std::string& origin) {
  if (!std::filesystem::is_regular_file(file)) {
    return make_error(ErrorKind::NotFound, origin + ": " + file.string() + ": no such file");
  }
  DISTILL_TRY(util::TempDir dir, util::TempDir::create("distill-image-"));
  auto shared = std::make_shared<util::TempDir>(std::move(dir));
  DISTILL_CHECK(extract_tar(file, shared->path(), origin));
  return shared;
}

// A path named inside manifest.json, kept inside the extraction directory.
Result<std::filesystem::path> member_path(const std::filesystem::path& root,
                                          const nlohmann::json& value, const std::string& origin) {
  if (!value.is_string()) {
    return detail::corrupt(origin, "manifest.json paths must be strings");
  }
  std::string name = value.get<std::string>();
  std::filesystem::path relative(name);
  if (name.empty() || relative.is_absolute()) {
    return detail::corrupt(origin, "bad path \"" + name + "\" in manifest.json");
  }
  for (const auto& part : relative) {
    if (part == "..") {
      return detail::corrupt(origin, "bad path \"" + name + "\" in manifest.json");
    }
  }
  return root / relative;
}

// The digest a docker save member name promises: blobs/sha256/<hex>, <hex>.json
// or <hex>/layer.tar; empty if the name does not carry one.
crypto::Digest digest_in_name(const std::filesystem::path& relative) {
  std::string hex;
  if (relative.parent_path().filename() == "sha256") {
    hex = relative.filename().string();
  } else if (relative.extension() == ".json") {
    hex = relative.stem().string();
  }
  auto digest = crypto::Digest::from_hex(hex);
  return digest.ok() ? *digest : crypto::Digest();
}

Result<std::string> layer_media_type_of(const std::filesystem::path& path) {
  DISTILL_TRY(util::Fd fd, [&]() -> Result<util::Fd> {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) {
      return util::errno_error(path, errno);
    }
    return util::Fd(raw);
  }());
  unsigned char magic[4] = {0, 0, 0, 0};
  ssize_t n = ::read(fd.get(), magic, sizeof(magic));
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    return std::string(k_media_oci_layer_gzip);
  }
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    return std::string(k_media_oci_layer_zstd);
  }
  return std::string(k_media_oci_layer_tar);
}

bool repo_tag_matches(const std::string& repo_tag, const std::string& wanted) {
  if (repo_tag == wanted) {
    return true;
  }
  for (std::string_view prefix : {"docker.io/library/", "docker.io/"}) {
    if (repo_tag.starts_with(prefix) && repo_tag.substr(prefix.size()) == wanted) {
      return true;
    }
    if (wanted.starts_with(prefix) && wanted.substr(prefix.size()) == repo_tag) {
      return true;
    }
  }
  return false;
}

Result<LoadedImage> load_docker_archive(const ImageRef& ref, const std::string& origin) {
  DISTILL_TRY(auto dir, extract_to_temp(ref.path, origin));
  const std::filesystem::path& root = dir->path();
  auto text = util::read_file(root / "manifest.json");
  if (!text.ok()) {
    return text.error().context(origin + ": not a docker save archive");
  }
  nlohmann::json list = nlohmann::json::parse(*text, nullptr, false);
  if (list.is_discarded() || !list.is_array()) {
    return detail::corrupt(origin, "manifest.json is not a JSON array");
  }
  const nlohmann::json* chosen = nullptr;
  std::string wanted = ref.name.empty() ? std::string() : ref.name + ":" + ref.tag;
  for (const auto& item : list) {
    if (!item.is_object()) {
      return detail::corrupt(origin, "manifest.json entries must be objects");
    }
    if (wanted.empty()) {
      if (list.size() != 1) {
        return make_error(ErrorKind::InvalidInput,
                          origin + ": the archive holds " + std::to_string(list.size()) +
                              " images; name one as docker-archive:FILE:NAME:TAG");
      }
      chosen = &item;
      break;
    }
    auto tags = item.find("RepoTags");
    if (tags != item.end() && tags->is_array()) {
      for (const auto& tag : *tags) {
        if (tag.is_string() && repo_tag_matches(tag.get<std::string>(), wanted)) {
          chosen = &item;
        }
      }
    }
  }
  if (chosen == nullptr) {
    return make_error(ErrorKind::NotFound,
                      origin + ": no image " + (wanted.empty() ? "" : "tagged " + wanted));
  }

  LoadedManifest loaded;
  auto config_member = chosen->find("Config");
  if (config_member == chosen->end()) {
    return detail::corrupt(origin, "manifest.json entry without \"Config\"");
  }
  DISTILL_TRY(std::filesystem::path config_path, member_path(root, *config_member, origin));
  DISTILL_TRY(loaded.config_json, util::read_file(config_path));
  Descriptor config_descriptor = describe(loaded.config_json, std::string(k_media_oci_config));
  crypto::Digest promised = digest_in_name(std::filesystem::relative(config_path, root));
  if (!promised.empty() && promised != config_descriptor.digest) {
    return blob_corrupt(origin, promised, "content has digest " + config_descriptor.digest.str());
  }
  DISTILL_TRY(loaded.config,
              ImageConfig::parse(loaded.config_json, origin + ": config " + config_path.string()));
  // A docker save archive has no manifest: the one made here is an OCI image
  // manifest (what skopeo converts it to for OCI layouts, which cannot hold a
  // Docker one).
  loaded.manifest.media_type = std::string(k_media_oci_manifest);
  loaded.manifest.config = config_descriptor;

  auto layers = chosen->find("Layers");
  if (layers == chosen->end() || !layers->is_array()) {
    return detail::corrupt(origin, "manifest.json entry without a \"Layers\" array");
  }
  if (layers->size() != loaded.config.diff_ids.size()) {
    return detail::corrupt(origin, "manifest.json lists " + std::to_string(layers->size()) +
                                       " layers, the config " +
                                       std::to_string(loaded.config.diff_ids.size()));
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    DISTILL_TRY(std::filesystem::path path, member_path(root, (*layers)[i], origin));
    DISTILL_CHECK(util::check_interrupted());
    DISTILL_TRY(FileDigest actual, digest_file(path));
    crypto::Digest named = digest_in_name(std::filesystem::relative(path, root));
    if (!named.empty() && named != actual.digest) {
      return blob_corrupt(origin, named, "content has digest " + actual.digest.str());
    }
    Descriptor layer;
    DISTILL_TRY(layer.media_type, layer_media_type_of(path));
    layer.digest = actual.digest;
    layer.size = actual.size;
    if (layer.media_type == k_media_oci_layer_tar && layer.digest != loaded.config.diff_ids[i]) {
      return blob_corrupt(
          origin, layer.digest,
          "uncompressed layer does not match diff_id " + loaded.config.diff_ids[i].str());
    }
    loaded.manifest.layers.push_back(layer);
    loaded.layer_files.push_back(path);
  }
  loaded.manifest_json = loaded.manifest.to_json();
  loaded.descriptor = describe(loaded.manifest_json, loaded.manifest.media_type);
  loaded.platform = Platform{loaded.config.os, loaded.config.architecture, loaded.config.variant};

  LoadedImage image;
  image.manifests.push_back(std::move(loaded));
  image.keepalive = dir;
  auto repo_tags = chosen->find("RepoTags");
  if (repo_tags != chosen->end() && repo_tags->is_array()) {
    for (const auto& tag : *repo_tags) {
      if (tag.is_string() && (wanted.empty() || repo_tag_matches(tag.get<std::string>(), wanted))) {
        image.repo_tag = tag.get<std::string>();
        break;
      }
    }
  }
  return image;
}

}  // namespace

Result<LoadedImage> load_image(const ImageRef& ref, LayerCheck check) {
  std::string origin = ref.to_string();
  switch (ref.transport) {
    case ImageRef::Transport::OciLayout:
      return load_layout(ref.path, ref.tag, origin, check);
    case ImageRef::Transport::OciArchive: {
      DISTILL_TRY(auto dir, extract_to_temp(ref.path, origin));
      DISTILL_TRY(LoadedImage image, load_layout(dir->path(), ref.tag, origin, check));
      image.keepalive = dir;
      return image;
    }
    case ImageRef::Transport::DockerArchive:
      return load_docker_archive(ref, origin);
    case ImageRef::Transport::Registry:
      return make_error(ErrorKind::Unsupported,
                        origin + ": load_image does not read registries (use the registry client)");
  }
  return make_error(ErrorKind::Internal, origin + ": unknown transport");
}

}  // namespace distill::oci
