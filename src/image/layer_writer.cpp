#include "image/layer_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "archive/file_content_reader.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::image {

struct LayerWriter::Pipeline {
  std::filesystem::path blob_dir;
  archive::Compression compression = archive::Compression::Gzip;
  std::optional<util::AtomicFile> file;
  std::unique_ptr<archive::FileSink> file_sink;
  std::unique_ptr<archive::HashingSink> compressed_hash;
  std::unique_ptr<archive::ByteSink> compressor;
  std::unique_ptr<archive::HashingSink> tar_hash;
  std::unique_ptr<archive::TarWriter> tar;
  std::set<std::string> directories;
  bool finished = false;
};

LayerWriter::~LayerWriter() = default;

Result<std::unique_ptr<LayerWriter>> LayerWriter::create(const std::filesystem::path& blob_dir,
                                                         archive::Compression compression,
                                                         unsigned threads) {
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
  p->compressor = archive::make_compressor(compression, *p->compressed_hash, threads);
  p->tar_hash = std::make_unique<archive::HashingSink>(p->compressor.get());
  p->tar = std::make_unique<archive::TarWriter>(*p->tar_hash);
  writer->m_pipeline = std::move(p);
  return writer;
}

bool LayerWriter::has_directory(const std::string& path) const {
  return m_pipeline->directories.count(path) != 0;
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
    if (!m_pipeline->directories.insert(entry.path).second) {
      return {};  // already in this layer (shared parents of grouped packages)
    }
  }
  return m_pipeline->tar->add(entry, content);
}

Status LayerWriter::add(const archive::TarEntry& entry, std::string_view content) {
  if (entry.type == archive::EntryType::Directory) {
    if (!m_pipeline->directories.insert(entry.path).second) {
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
  DISTILL_CHECK(p.tar_hash->finish());
  DISTILL_CHECK(p.compressor->finish());
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
  p.finished = true;
  return blob;
}

}  // namespace distill::image
