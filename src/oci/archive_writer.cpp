// oci-archive (a tar of an OCI image layout) and docker-archive (`docker save`
// format: manifest.json + repositories, plus an OCI layout so OCI tools read it
// too) writers. Entries are sorted by path, owned by root, mtime 0, written by the
// deterministic archive::TarWriter to a temp file that is renamed into place.
#include "oci/archive_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <variant>

#include "archive/byte_sink.hpp"
#include "archive/file_content_reader.hpp"
#include "archive/tar_writer.hpp"
#include "oci/image_ref.hpp"
#include "oci/json_util.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "util/atomic_file.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/interrupt.hpp"
#include "util/interrupt_cleanup.hpp"

namespace distill::oci {

namespace {

constexpr std::string_view k_oci_layout = R"({"imageLayoutVersion":"1.0.0"})";

// A tar member: bytes in memory or a file on disk (with its size and digest).
struct Member {
  std::variant<std::string, std::filesystem::path> content;
  uint64_t size = 0;
  crypto::Digest digest;
};

// Reads a blob file and checks, at its end, that it held its digest: a cache
// entry damaged on disk fails the archive instead of shipping in it.
class VerifyingReader final : public archive::ContentReader {
 public:
  VerifyingReader(util::Fd fd, std::filesystem::path path, crypto::Digest digest)
      : m_reader(std::move(fd), path), m_path(std::move(path)), m_digest(digest) {}
  Result<size_t> read(void* buffer, size_t size) override {
    DISTILL_CHECK(util::check_interrupted());  // the archive's temporary goes on the way out
    DISTILL_TRY(size_t n, m_reader.read(buffer, size));
    m_hasher.update(buffer, n);
    return n;
  }
  // After the tar writer took its `size` bytes: nothing more in the file, and
  // the bytes had the digest.
  Status verify() {
    char extra = 0;
    DISTILL_TRY(size_t n, m_reader.read(&extra, 1));
    crypto::Digest got = m_hasher.finish();
    if (n != 0 || got != m_digest) {
      return make_error(ErrorKind::Corrupt,
                        m_path.string() + ": content does not match its digest (expected " +
                            m_digest.str() +
                            (n != 0 ? ", got a longer file)" : ", got " + got.str() + ")"));
    }
    return {};
  }

 private:
  archive::FileContentReader m_reader;
  std::filesystem::path m_path;
  crypto::Digest m_digest;
  crypto::Sha256 m_hasher;
};

class ArchiveBuilder {
 public:
  void add_data(const std::string& path, std::string data) {
    uint64_t size = data.size();
    m_members[path] = Member{std::move(data), size, {}};
  }
  void add_file(const std::string& path, const std::filesystem::path& file, uint64_t size,
                const crypto::Digest& digest) {
    m_members[path] = Member{file, size, digest};
  }
  void add_blob(const crypto::Digest& digest, std::string data) {
    add_data("blobs/sha256/" + digest.hex(), std::move(data));
  }

  Status write(const std::filesystem::path& destination) {
    // What an earlier writer of this archive left when it was killed.
    std::filesystem::path parent = destination.parent_path();
    util::sweep_abandoned(parent.empty() ? "." : parent,
                          "." + destination.filename().string() + ".tmp.");
    DISTILL_TRY(util::AtomicFile out, util::AtomicFile::create(destination, 0644));
    archive::FileSink sink(out);
    archive::TarWriter tar(sink);
    for (const char* dir : {"blobs", "blobs/sha256"}) {
      archive::TarEntry entry;
      entry.path = dir;
      entry.type = archive::EntryType::Directory;
      entry.mode = 0755;
      DISTILL_CHECK(tar.add(entry, std::string_view()));
    }
    // std::map iterates in path order: "blobs/..." < "index.json" < "manifest.json"...
    for (const auto& [path, member] : m_members) {
      archive::TarEntry entry;
      entry.path = path;
      entry.type = archive::EntryType::File;
      entry.mode = 0644;
      entry.size = member.size;
      if (const auto* data = std::get_if<std::string>(&member.content)) {
        DISTILL_CHECK(tar.add(entry, std::string_view(*data)));
        continue;
      }
      const auto& file = std::get<std::filesystem::path>(member.content);
      int raw = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      if (raw < 0) {
        return util::errno_error(file, errno);
      }
      VerifyingReader reader(util::Fd(raw), file, member.digest);
      DISTILL_CHECK(tar.add(entry, &reader));
      DISTILL_CHECK(reader.verify());
    }
    DISTILL_CHECK(tar.finish());
    return out.commit();
  }

 private:
  std::map<std::string, Member> m_members;
};

void add_manifest_blobs(ArchiveBuilder& builder, const ImageManifest& entry) {
  for (const auto& layer : entry.layers) {
    builder.add_file("blobs/sha256/" + layer.descriptor.digest.hex(), layer.file,
                     layer.descriptor.size, layer.descriptor.digest);
  }
  builder.add_blob(entry.config_descriptor.digest, entry.config_json);
  builder.add_blob(entry.manifest_descriptor.digest, entry.manifest_json);
}

Status check_finalized(const Image& image) {
  if (image.index_json.empty()) {
    return make_error(ErrorKind::Internal, "archive writer: image not finalized");
  }
  return {};
}

}  // namespace

Status write_oci_archive(const std::filesystem::path& file, const Image& image,
                         const std::string& ref_name) {
  DISTILL_CHECK(check_finalized(image));
  ArchiveBuilder builder;
  for (const auto& entry : image.manifests) {
    add_manifest_blobs(builder, entry);
  }
  builder.add_blob(image.index_descriptor.digest, image.index_json);
  Index index;
  Descriptor tagged = image.index_descriptor;
  tagged.annotations[std::string(k_annotation_ref_name)] = ref_name;
  index.manifests.push_back(std::move(tagged));
  builder.add_data("index.json", index.to_json());
  builder.add_data("oci-layout", std::string(k_oci_layout));
  return builder.write(file);
}

Status write_docker_archive(const std::filesystem::path& file, const Image& image,
                            const std::string& name, const std::string& tag,
                            const Platform& platform) {
  DISTILL_CHECK(check_finalized(image));
  // RepoTags "NAME:TAG" is what docker load parses: a malformed one makes a
  // malformed archive.
  DISTILL_CHECK(check_name_and_tag(name, tag, "docker-archive:" + file.string()));
  DISTILL_TRY(const ImageManifest* entry, select_manifest(image, platform));
  ArchiveBuilder builder;
  add_manifest_blobs(builder, *entry);

  std::string repo_tag = name.empty() ? std::string() : name + ":" + (tag.empty() ? "latest" : tag);
  nlohmann::json item = nlohmann::json::object();
  item["Config"] = "blobs/sha256/" + entry->config_descriptor.digest.hex();
  item["RepoTags"] = nlohmann::json::array();
  if (!repo_tag.empty()) {
    item["RepoTags"].push_back(repo_tag);
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : entry->layers) {
    layers.push_back("blobs/sha256/" + layer.descriptor.digest.hex());
  }
  item["Layers"] = std::move(layers);
  builder.add_data("manifest.json", detail::dump(nlohmann::json::array({item})));

  if (!repo_tag.empty() && !entry->layers.empty()) {
    nlohmann::json repositories = nlohmann::json::object();
    repositories[name][tag.empty() ? "latest" : tag] = entry->layers.back().descriptor.digest.hex();
    builder.add_data("repositories", detail::dump(repositories));
  }

  Index index;
  Descriptor manifest = entry->manifest_descriptor;
  if (!repo_tag.empty()) {
    manifest.annotations["io.containerd.image.name"] = repo_tag;
    manifest.annotations[std::string(k_annotation_ref_name)] = tag.empty() ? "latest" : tag;
  }
  index.manifests.push_back(std::move(manifest));
  builder.add_data("index.json", index.to_json());
  builder.add_data("oci-layout", std::string(k_oci_layout));
  return builder.write(file);
}

}  // namespace distill::oci
