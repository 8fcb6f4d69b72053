// LayerWriter: one OCI layer, streamed. Entries go through a deterministic tar
// writer, a SHA-256 of the tar (the diff_id), the compressor, a SHA-256 of the
// compressed bytes (the blob digest) and into a temporary file in the blob
// store, renamed to blobs/sha256/<digest> only when complete. Nothing of a layer
// is ever held in memory whole.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "archive/byte_sink.hpp"
#include "archive/compressor.hpp"
#include "archive/tar_writer.hpp"
#include "image/generated_files.hpp"
#include "oci/image.hpp"
#include "util/atomic_file.hpp"
#include "util/result.hpp"

namespace distill::image {

class LayerWriter {
 public:
  // `blob_dir` is a blob store root: the layer lands in blob_dir/sha256/<hex>.
  // `threads` and `helpers` are the compressor's (archive/compressor.hpp).
  static Result<std::unique_ptr<LayerWriter>> create(const std::filesystem::path& blob_dir,
                                                     archive::Compression compression,
                                                     unsigned threads,
                                                     util::WorkerPool* helpers = nullptr);
  ~LayerWriter();
  LayerWriter(const LayerWriter&) = delete;
  LayerWriter& operator=(const LayerWriter&) = delete;

  Status add(const archive::TarEntry& entry, archive::ContentReader* content);
  Status add(const archive::TarEntry& entry, std::string_view content);
  // In-memory content, or streamed from generated.source when set.
  Status add(const GeneratedEntry& generated);

  // Adds a 0755 root directory entry for every parent of `path` not yet written
  // in this layer (entries from a .deb usually carry their own).
  Status add_parents(const std::string& path, int64_t mtime);
  [[nodiscard]] bool has_directory(const std::string& path) const;
  // The directories written so far, in the order they were first written.
  [[nodiscard]] const std::vector<std::string>& directories() const;

  // Tar bytes written so far (the offset the next entry starts at).
  [[nodiscard]] uint64_t tar_offset() const;
  // Whole entries as this writer lays them out, taken from a layer it wrote
  // before (package_group.hpp); `directories` are the directory entries
  // among them, which later add()s then skip like any written here.
  Status add_raw(std::string_view tar_bytes, const std::vector<std::string>& directories);
  // A gzip layer's first chunks taken as they are: `tar_bytes` is one whole
  // chunk (archive::k_gzip_chunk_size bytes) and `member` the gzip member the
  // compressor makes of it. Only before anything else is written, so the
  // compressor's chunks stay where a fresh layer has them. The caller passes
  // directories with add_raw(..., dirs) or note_directories().
  Status add_compressed_chunk(std::string_view tar_bytes, std::string_view member);
  // Directory entries written by add_compressed_chunk().
  void note_directories(const std::vector<std::string>& directories);

  // Ends the tar, flushes the compressor and publishes the blob.
  Result<oci::LayerBlob> finish();

 private:
  LayerWriter() = default;
  struct Pipeline;
  std::unique_ptr<Pipeline> m_pipeline;
};

}  // namespace distill::image
