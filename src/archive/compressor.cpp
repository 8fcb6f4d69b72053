// Layer compressors: chunked multi-member gzip (libdeflate) and single-threaded
// streaming zstd (libzstd). See compressor.hpp for the determinism rules; gzip
// member layout per RFC 1952, zstd frame per RFC 8878.
#include "archive/compressor.hpp"

#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "util/thread_pool.hpp"

namespace distill::archive {

Result<Compression> parse_compression(std::string_view name) {
  if (name == "gzip" || name == "gz") {
    return Compression::Gzip;
  }
  if (name == "zstd" || name == "zst") {
    return Compression::Zstd;
  }
  if (name == "none" || name.empty()) {
    return Compression::None;
  }
  return make_error(ErrorKind::InvalidInput,
                    "unknown compression \"" + std::string(name) + "\" (use gzip, zstd or none)");
}

std::string to_string(Compression compression) {
  switch (compression) {
    case Compression::None:
      return "none";
    case Compression::Gzip:
      return "gzip";
    case Compression::Zstd:
      return "zstd";
  }
  return "none";
}

std::string layer_media_type(Compression compression) {
  switch (compression) {
    case Compression::None:
      return "application/vnd.oci.image.layer.v1.tar";
    case Compression::Gzip:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case Compression::Zstd:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
  }
  return "application/vnd.oci.image.layer.v1.tar";
}

namespace {

Error after_finish() { return make_error(ErrorKind::Internal, "compressor: write after finish()"); }

class PassThrough final : public ByteSink {
 public:
  explicit PassThrough(ByteSink& downstream) : m_down(downstream) {}
  Status write(const void* data, size_t size) override { return m_down.write(data, size); }
  using ByteSink::write;
  Status finish() override { return m_down.finish(); }

 private:
  ByteSink& m_down;
};

// ---- gzip -------------------------------------------------------------------

struct DeflateDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
using DeflatePtr = std::unique_ptr<libdeflate_compressor, DeflateDeleter>;

// Bytes that are written before they are read: unlike a vector, growing
// it does not zero-fill (the member is ~1 MiB, rewritten for every chunk).
struct OutputBuffer {
  std::unique_ptr<unsigned char[]> bytes;
  size_t capacity = 0;
  size_t size = 0;

  unsigned char* prepare(size_t needed) {
    if (capacity < needed) {
      bytes = std::make_unique_for_overwrite<unsigned char[]>(needed);
      capacity = needed;
    }
    return bytes.get();
  }
};

struct Chunk {
  std::vector<unsigned char> input;  // up to k_gzip_chunk_size bytes
  OutputBuffer output;               // one complete gzip member
  bool failed = false;
};

void put_le32(unsigned char* p, uint32_t v) {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
  p[2] = static_cast<unsigned char>(v >> 16);
  p[3] = static_cast<unsigned char>(v >> 24);
}

// What compresses a chunk: the configured level, and the probe and store
// compressors that spare incompressible chunks (jars, images, already
// compressed files) the full effort.
struct Deflaters {
  DeflatePtr main, probe, store;
};

// Whether a chunk will not shrink: four 16 KiB slices spread over it are
// compressed at level 1 and none gains more than 2%. A function of the bytes
// alone, so the output stays deterministic.
bool looks_incompressible(libdeflate_compressor* probe, const std::vector<unsigned char>& input) {
  constexpr size_t k_slice = 16U << 10;
  if (input.size() < 8 * k_slice) {
    return false;
  }
  std::vector<unsigned char> out(libdeflate_deflate_compress_bound(probe, k_slice));
  for (size_t i = 0; i < 4; ++i) {
    size_t offset = (input.size() - k_slice) / 4 * i;
    size_t n =
        libdeflate_deflate_compress(probe, input.data() + offset, k_slice, out.data(), out.size());
    if (n == 0 || n < k_slice - k_slice / 50) {
      return false;
    }
  }
  return true;
}

// Compresses chunk.input into one gzip member: fixed 10-byte header
// (no FNAME, MTIME 0, XFL 0, OS 255), raw deflate (stored blocks for a chunk
// that looks incompressible), CRC32, ISIZE.
void compress_chunk(Deflaters& deflaters, Chunk& chunk) {
  static const unsigned char k_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  libdeflate_compressor* compressor = looks_incompressible(deflaters.probe.get(), chunk.input)
                                          ? deflaters.store.get()
                                          : deflaters.main.get();
  size_t bound = libdeflate_deflate_compress_bound(compressor, chunk.input.size());
  unsigned char* out = chunk.output.prepare(sizeof k_header + bound + 8);
  std::memcpy(out, k_header, sizeof k_header);
  size_t n = libdeflate_deflate_compress(compressor, chunk.input.data(), chunk.input.size(),
                                         out + sizeof k_header, bound);
  if (n == 0) {
    chunk.failed = true;
    return;
  }
  unsigned char* trailer = out + sizeof k_header + n;
  put_le32(trailer, libdeflate_crc32(0, chunk.input.data(), chunk.input.size()));
  put_le32(trailer + 4, static_cast<uint32_t>(chunk.input.size()));
  chunk.output.size = sizeof k_header + n + 8;
}

// Two batches of `width` chunks: the producer fills one while a background
// thread compresses the other (with `width` parallel workers, at most 8); batches are
// written downstream in order by the producer thread.
class GzipCompressor final : public ByteSink {
 public:
  GzipCompressor(ByteSink& downstream, unsigned threads, int level)
      : m_down(downstream), m_width(std::clamp(threads, 1U, 8U)) {
    for (auto& batch : m_batches) {
      batch.resize(m_width);
    }
    for (unsigned i = 0; i < m_width; ++i) {
      m_compressors.push_back({DeflatePtr(libdeflate_alloc_compressor(level)),
                               DeflatePtr(libdeflate_alloc_compressor(1)),
                               DeflatePtr(libdeflate_alloc_compressor(0))});
    }
  }
  ~GzipCompressor() override { wait(); }
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  Status write(const void* data, size_t size) override {
    if (m_finished) {
      return after_finish();
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    m_total += size;
    while (size > 0) {
      Chunk& chunk = m_batches[m_filling][m_fill_count];
      if (chunk.input.capacity() < k_gzip_chunk_size) {
        chunk.input.reserve(k_gzip_chunk_size);
      }
      size_t n = std::min(size, k_gzip_chunk_size - chunk.input.size());
      chunk.input.insert(chunk.input.end(), bytes, bytes + n);
      bytes += n;
      size -= n;
      if (chunk.input.size() == k_gzip_chunk_size) {
        ++m_fill_count;
        if (m_fill_count == m_width) {
          DISTILL_CHECK(dispatch());
        }
      }
    }
    return {};
  }
  using ByteSink::write;

  Status finish() override {
    if (m_finished) {
      return {};
    }
    m_finished = true;
    if (!m_batches[m_filling][m_fill_count].input.empty() || m_total == 0) {
      ++m_fill_count;  // the partial last chunk (or one empty member)
    }
    if (m_fill_count > 0) {
      DISTILL_CHECK(dispatch());
    }
    DISTILL_CHECK(drain());
    return m_down.finish();
  }

 private:
  void wait() {
    if (m_worker.joinable()) {
      m_worker.join();
    }
  }

  // Writes the batch in flight (if any) downstream, in chunk order.
  Status drain() {
    wait();
    if (m_busy_count == 0) {
      return {};
    }
    std::vector<Chunk>& batch = m_batches[1 - m_filling];
    for (size_t i = 0; i < m_busy_count; ++i) {
      if (batch[i].failed) {
        return make_error(ErrorKind::Internal, "gzip: libdeflate failed to compress a chunk");
      }
      DISTILL_CHECK(m_down.write(batch[i].output.bytes.get(), batch[i].output.size));
      batch[i].input.clear();
    }
    m_busy_count = 0;
    return {};
  }

  // Hands the filled batch to the compressor and starts filling the other one.
  Status dispatch() {
    for (const auto& deflaters : m_compressors) {
      if (!deflaters.main || !deflaters.probe || !deflaters.store) {
        return make_error(ErrorKind::InvalidInput, "gzip: cannot create a compressor (bad level?)");
      }
    }
    DISTILL_CHECK(drain());
    std::vector<Chunk>& batch = m_batches[m_filling];
    size_t count = m_fill_count;
    m_busy_count = count;
    m_filling = 1 - m_filling;
    m_fill_count = 0;
    if (m_width == 1) {
      compress_chunk(m_compressors[0], batch[0]);
      return drain();
    }
    m_worker = std::thread([this, &batch, count] {
      util::parallel_for(count, m_width,
                         [this, &batch](size_t i) { compress_chunk(m_compressors[i], batch[i]); });
    });
    return {};
  }

  ByteSink& m_down;
  unsigned m_width;
  std::vector<Deflaters> m_compressors;
  std::vector<Chunk> m_batches[2];
  size_t m_filling = 0;     // index of the batch being filled
  size_t m_fill_count = 0;  // complete chunks in the filling batch
  size_t m_busy_count = 0;  // chunks in the other batch not yet written
  std::thread m_worker;
  uint64_t m_total = 0;
  bool m_finished = false;
};

// ---- zstd -------------------------------------------------------------------

struct ZstdDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

// Input is regrouped into fixed 128 KiB pieces before it reaches libzstd, so the
// frame does not depend on how callers happened to split their writes.
class ZstdCompressor final : public ByteSink {
 public:
  ZstdCompressor(ByteSink& downstream, int level) : m_down(downstream), m_ctx(ZSTD_createCCtx()) {
    if (m_ctx) {
      m_setup_error =
          ZSTD_isError(ZSTD_CCtx_setParameter(m_ctx.get(), ZSTD_c_compressionLevel, level)) ||
          ZSTD_isError(ZSTD_CCtx_setParameter(m_ctx.get(), ZSTD_c_checksumFlag, 1)) ||
          ZSTD_isError(ZSTD_CCtx_setParameter(m_ctx.get(), ZSTD_c_contentSizeFlag, 0));
    }
    m_in.reserve(k_piece);
    m_out.resize(ZSTD_CStreamOutSize());
  }

  Status write(const void* data, size_t size) override {
    if (m_finished) {
      return after_finish();
    }
    if (!m_ctx || m_setup_error) {
      return make_error(ErrorKind::Internal, "zstd: cannot set up a compression context");
    }
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
      size_t n = std::min(size, k_piece - m_in.size());
      m_in.insert(m_in.end(), bytes, bytes + n);
      bytes += n;
      size -= n;
      if (m_in.size() == k_piece) {
        DISTILL_CHECK(compress(ZSTD_e_continue));
      }
    }
    return {};
  }
  using ByteSink::write;

  Status finish() override {
    if (m_finished) {
      return {};
    }
    m_finished = true;
    if (!m_ctx || m_setup_error) {
      return make_error(ErrorKind::Internal, "zstd: cannot set up a compression context");
    }
    DISTILL_CHECK(compress(ZSTD_e_end));
    return m_down.finish();
  }

 private:
  static constexpr size_t k_piece = 128 * 1024;

  Status compress(ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{m_in.data(), m_in.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{m_out.data(), m_out.size(), 0};
      size_t remaining = ZSTD_compressStream2(m_ctx.get(), &out, &in, mode);
      if (ZSTD_isError(remaining)) {
        return make_error(ErrorKind::Internal,
                          std::string("zstd: ") + ZSTD_getErrorName(remaining));
      }
      if (out.pos > 0) {
        DISTILL_CHECK(m_down.write(m_out.data(), out.pos));
      }
      bool done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
      if (done) {
        break;
      }
    }
    m_in.clear();
    return {};
  }

  ByteSink& m_down;
  std::unique_ptr<ZSTD_CCtx, ZstdDeleter> m_ctx;
  bool m_setup_error = false;
  std::vector<char> m_in;
  std::vector<char> m_out;
  bool m_finished = false;
};

}  // namespace

std::unique_ptr<ByteSink> make_compressor(Compression compression, ByteSink& downstream,
                                          unsigned threads, int level) {
  switch (compression) {
    case Compression::Gzip:
      return std::make_unique<GzipCompressor>(downstream, threads, level < 0 ? 6 : level);
    case Compression::Zstd:
      return std::make_unique<ZstdCompressor>(downstream, level < 0 ? 3 : level);
    case Compression::None:
      break;
  }
  return std::make_unique<PassThrough>(downstream);
}

}  // namespace distill::archive
