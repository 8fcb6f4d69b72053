#include "image/layer_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "archive/file_content_reader.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::image {

namespace {

// Between the tar writer and the compressor: counts the tar bytes, and lets
// a chunk that comes already compressed pass by the compressor (its bytes are
// hashed directly).
class Gate final : public archive::ByteSink {
 public:
  explicit Gate(archive::ByteSink& downstream) : m_down(downstream) {}
  Status write(const void* data, size_t size) override {
    m_size += size;
    return m_closed ? Status{} : m_down.write(data, size);
  }
  using ByteSink::write;
  Status finish() override { return m_down.finish(); }
  void close(bool closed) { m_closed = closed; }
  [[nodiscard]] uint64_t size() const { return m_size; }

 private:
  archive::ByteSink& m_down;
  uint64_t m_size = 0;
  bool m_closed = false;
};

}  // namespace

struct LayerWriter::Pipeline {
  std::filesystem::path blob_dir;
  archive::Compression compression = archive::Compression::Gzip;
  std::optional<util::AtomicFile> file;
  std::unique_ptr<archive::FileSink> file_sink;
  std::unique_ptr<archive::HashingSink> compressed_hash;
  std::unique_ptr<archive::HashingSink> tar_hash;  // outlives the compressor, its tap
  std::unique_ptr<archive::ByteSink> compressor;
  std::unique_ptr<Gate> gate;
  std::unique_ptr<archive::TarWriter> tar;
  std::set<std::string> directories;
  std::vector<std::string> directory_order;
  uint64_t compressed_chunks = 0;  // bytes of tar taken by add_compressed_chunk
  bool finished = false;

  bool note_directory(const std::string& path) {
    if (!directories.insert(path).second) {
      return false;
    }
    directory_order.push_back(path);
    return true;
  }
};

LayerWriter::~LayerWriter() = default;

Result<std::unique_ptr<LayerWriter>> LayerWriter::create(const std::filesystem::path& blob_dir,
                                                         archive::Compression compression,
                                                         unsigned threads,
                                                         util::WorkerPool* helpers) {
  std::error_code ec;
  std::filesystem::create_directories(blob_dir / "sha256", ec);
  if (ec) {
    return util::errno_error(blob_dir / "sha256", ec.value());
  }
  std::unique_ptr<LayerWriter> writer(new LayerWriter());
  auto p = std::make_unique<Pipeline>();
  p->blob_dir = blob_dir;
  p->compression = compression;
  DISTILL_TRY(auto file, util::AtomicFile::create(blob_dir / "sha256" / "layer", 0644));
  p->file.emplace(std::move(file));
  p->file_sink = std::make_unique<archive::FileSink>(*p->file);
  p->compressed_hash = std::make_unique<archive::HashingSink>(p->file_sink.get());
  // The tar's hash (the diff_id) is the compressor's tap: taken off the
  // thread that writes the tar (compressor.hpp).
  p->tar_hash = std::make_unique<archive::HashingSink>();
  p->compressor = archive::make_compressor(compression, *p->compressed_hash, threads, -1,
                                           p->tar_hash.get(), helpers);
  p->gate = std::make_unique<Gate>(*p->compressor);
  p->tar = std::make_unique<archive::TarWriter>(*p->gate);
  writer->m_pipeline = std::move(p);
  return writer;
}

bool LayerWriter::has_directory(const std::string& path) const {
  return m_pipeline->directories.count(path) != 0;
}

const std::vector<std::string>& LayerWriter::directories() const {
  return m_pipeline->directory_order;
}

uint64_t LayerWriter::tar_offset() const { return m_pipeline->gate->size(); }

Status LayerWriter::add_raw(std::string_view tar_bytes,
                            const std::vector<std::string>& directories) {
  note_directories(directories);
  return m_pipeline->gate->write(tar_bytes);
}

Status LayerWriter::add_compressed_chunk(std::string_view tar_bytes, std::string_view member) {
  Pipeline& p = *m_pipeline;
  if (p.compression != archive::Compression::Gzip ||
      tar_bytes.size() != archive::k_gzip_chunk_size || p.gate->size() != p.compressed_chunks) {
    return make_error(ErrorKind::Internal,
                      "layer writer: a compressed chunk taken as it is must be a whole gzip "
                      "chunk at the start of the layer");
  }
  // Nothing has reached the compressor yet (checked above), so these bytes
  // come before anything its tap will hash.
  p.gate->close(true);
  Status counted = p.gate->write(tar_bytes);
  p.gate->close(false);
  DISTILL_CHECK(counted);
  DISTILL_CHECK(p.tar_hash->write(tar_bytes));
  p.compressed_chunks += tar_bytes.size();
  return p.compressed_hash->write(member);
}

void LayerWriter::note_directories(const std::vector<std::string>& directories) {
  for (const auto& d : directories) {
    m_pipeline->note_directory(d);
  }
}

Status LayerWriter::add_parents(const std::string& path, int64_t mtime) {
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    if (m_pipeline->directories.count(parent) == 0) {
      archive::TarEntry dir;
      dir.path = parent;
      dir.type = archive::EntryType::Directory;
      dir.mode = 0755;
      dir.mtime = mtime;
      DISTILL_CHECK(add(dir, std::string_view()));
    }
  }
  return {};
}

Status LayerWriter::add(const archive::TarEntry& entry, archive::ContentReader* content) {
  if (entry.type == archive::EntryType::Directory) {
    if (!m_pipeline->note_directory(entry.path)) {
      return {};  // already in this layer (shared parents of grouped packages)
    }
  }
  return m_pipeline->tar->add(entry, content);
}

Status LayerWriter::add(const archive::TarEntry& entry, std::string_view content) {
  if (entry.type == archive::EntryType::Directory) {
    if (!m_pipeline->note_directory(entry.path)) {
      return {};
    }
  }
  return m_pipeline->tar->add(entry, content);
}

Status LayerWriter::add(const GeneratedEntry& generated) {
  if (generated.source.empty() || generated.entry.type != archive::EntryType::File) {
    return add(generated.entry, std::string_view(generated.content));
  }
  util::Fd fd(::open(generated.source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return util::errno_error(generated.source, errno);
  }
  archive::FileContentReader reader(std::move(fd), generated.source);
  return add(generated.entry, &reader);
}

Result<oci::LayerBlob> LayerWriter::finish() {
  Pipeline& p = *m_pipeline;
  DISTILL_CHECK(p.tar->finish());
  DISTILL_CHECK(p.compressor->finish());  // the tap has had every byte
  DISTILL_CHECK(p.tar_hash->finish());
  DISTILL_CHECK(p.compressed_hash->finish());
  DISTILL_CHECK(p.file_sink->finish());
  oci::LayerBlob blob;
  blob.descriptor.media_type = archive::layer_media_type(p.compression);
  blob.descriptor.digest = p.compressed_hash->digest();
  blob.descriptor.size = p.compressed_hash->size();
  blob.diff_id = p.tar_hash->digest();
  blob.uncompressed_size = p.tar_hash->size();
  blob.file = p.blob_dir / "sha256" / blob.descriptor.digest.hex();
  DISTILL_CHECK(p.file->commit_as(blob.file));
  blob.hashed = true;
  p.finished = true;
  return blob;
}

}  // namespace distill::image
