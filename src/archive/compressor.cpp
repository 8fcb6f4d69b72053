// Layer compressors: chunked multi-member gzip (libdeflate) and single-threaded
// streaming zstd (libzstd). See compressor.hpp for the determinism rules; gzip
// member layout per RFC 1952, zstd frame per RFC 8878.
#include "archive/compressor.hpp"

#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "util/arena_bytes.hpp"
#include "util/kept_objects.hpp"
#include "util/page_arena.hpp"
#include "util/worker_pool.hpp"

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

// The input to `tap` as it comes, then to `inner` (the compressors that run
// on the caller's thread anyway).
class Tapped final : public ByteSink {
 public:
  Tapped(ByteSink& tap, std::unique_ptr<ByteSink> inner) : m_tap(tap), m_inner(std::move(inner)) {}
  Status write(const void* data, size_t size) override {
    DISTILL_CHECK(m_tap.write(data, size));
    return m_inner->write(data, size);
  }
  using ByteSink::write;
  Status finish() override { return m_inner->finish(); }

 private:
  ByteSink& m_tap;
  std::unique_ptr<ByteSink> m_inner;
};

// ---- gzip -------------------------------------------------------------------

struct DeflateDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
using DeflatePtr = std::unique_ptr<libdeflate_compressor, DeflateDeleter>;

struct Chunk {
  util::ArenaBytes input;         // up to k_gzip_chunk_size bytes
  util::ArenaBytes output;        // one complete gzip member
  const char* failure = nullptr;  // why it has no member
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
  int level = -1;
  DeflatePtr main, probe, store;
};

// A compressor's tables (~0.6 MiB at level 6) are written whole, so they come
// from the page arena (util/page_arena.hpp). libdeflate has one allocator for
// the process: set here, before main() starts any thread.
[[maybe_unused]] const bool k_deflate_allocator_set =
    (libdeflate_set_memory_allocator(util::arena_allocate, util::arena_free), true);

// Compressors are kept for the next chunk, of any stream: made anew for every
// layer, they brought fresh pages to fault in and clear (a level-6 compressor
// holds its hash tables). One set per compressing thread.
util::KeptObjects<std::unique_ptr<Deflaters>>& kept_deflaters() {
  static auto* kept = new util::KeptObjects<std::unique_ptr<Deflaters>>(16);  // never destroyed
  return *kept;
}

// Kept compressors for `level`, or new ones; null when `level` is not one
// libdeflate has.
std::unique_ptr<Deflaters> take_deflaters(int level) {
  if (auto kept = kept_deflaters().take([level](const auto& d) { return d->level == level; })) {
    return std::move(*kept);
  }
  auto made = std::make_unique<Deflaters>(Deflaters{
      level, DeflatePtr(libdeflate_alloc_compressor(level)),
      DeflatePtr(libdeflate_alloc_compressor(1)), DeflatePtr(libdeflate_alloc_compressor(0))});
  if (!made->main || !made->probe || !made->store) {
    return nullptr;
  }
  return made;
}

// Chunk buffers outlive the stream that used them: a chunk is 1 MiB in and
// out, whose pages a new one faults in and clears.
util::KeptObjects<Chunk>& kept_chunks() {
  static auto* kept = new util::KeptObjects<Chunk>(16);  // never destroyed: safe to use at exit
  return *kept;
}

// A kept chunk, or one with no room yet.
Chunk take_chunk() { return kept_chunks().take().value_or(Chunk{}); }

void give_chunk(Chunk c) {
  if (c.input.capacity() == 0) {
    return;
  }
  c.input.clear();
  c.failure = nullptr;
  kept_chunks().give(std::move(c));
}

// log2(c) for c >= 1, to a millionth, without libm (which distill does not
// otherwise link): c = m * 2^e with m in [1, 2), ln m = 2 atanh((m-1)/(m+1)).
double log2_of(uint32_t c) {
  const int e = std::bit_width(c) - 1;
  const double m = static_cast<double>(c) / static_cast<double>(uint32_t{1} << e);
  const double z = (m - 1) / (m + 1);
  const double z2 = z * z;
  const double ln = 2 * z * (1 + z2 * (1.0 / 3 + z2 * (1.0 / 5 + z2 * (1.0 / 7 + z2 / 9))));
  return e + ln * 1.4426950408889634;  // 1 / ln 2
}

// Whether the bytes' order-0 entropy is under 7 bits a byte: Huffman codes
// alone, without a match, then save over an eighth of them, so deflate at
// level 1 does (the probe below). Counting bytes costs a twentieth of that
// probe, which warm base builds ran on every 1 MiB chunk of their layers:
// 0.3-0.5% of their CPU time.
bool skewed(std::span<const unsigned char> bytes) {
  std::array<std::array<uint32_t, 256>, 4> counts{};  // four tables: no store waits on the last
  const size_t whole = bytes.size() & ~size_t{3};
  for (size_t i = 0; i < whole; i += 4) {
    ++counts[0][bytes[i]];
    ++counts[1][bytes[i + 1]];
    ++counts[2][bytes[i + 2]];
    ++counts[3][bytes[i + 3]];
  }
  for (size_t i = whole; i < bytes.size(); ++i) {
    ++counts[0][bytes[i]];
  }
  // n * H = n log2 n - sum(c log2 c), compared with 7 n.
  const auto n = static_cast<double>(bytes.size());
  double sum = 0;
  for (size_t b = 0; b < 256; ++b) {
    const uint32_t c = counts[0][b] + counts[1][b] + counts[2][b] + counts[3][b];
    if (c != 0) {
      sum += c * log2_of(c);
    }
  }
  return n * log2_of(static_cast<uint32_t>(bytes.size())) - sum < 7.0 * n;
}

// Whether a chunk will not shrink: four 16 KiB slices spread over it are
// compressed at level 1 and none gains more than 2%; a slice whose bytes are
// skewed gains more than that, and is not compressed to see it. A function
// of the bytes alone, so the output stays deterministic.
bool looks_incompressible(libdeflate_compressor* probe, std::span<const unsigned char> input) {
  constexpr size_t k_slice = 16U << 10;
  if (input.size() < 8 * k_slice) {
    return false;
  }
  std::vector<unsigned char> out;
  for (size_t i = 0; i < 4; ++i) {
    size_t offset = (input.size() - k_slice) / 4 * i;
    if (skewed(input.subspan(offset, k_slice))) {
      return false;
    }
    out.resize(libdeflate_deflate_compress_bound(probe, k_slice));
    size_t n =
        libdeflate_deflate_compress(probe, input.data() + offset, k_slice, out.data(), out.size());
    if (n == 0 || n < k_slice - k_slice / 50) {
      return false;
    }
  }
  return true;
}

// Compresses chunk.input into one gzip member with `deflaters`: fixed 10-byte
// header (no FNAME, MTIME 0, XFL 0, OS 255), raw deflate (stored blocks for a
// chunk that looks incompressible), CRC32, ISIZE.
void compress_chunk_with(Deflaters* deflaters, Chunk& chunk) {
  static const unsigned char k_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  libdeflate_compressor* compressor =
      looks_incompressible(deflaters->probe.get(), chunk.input.bytes()) ? deflaters->store.get()
                                                                        : deflaters->main.get();
  // Room for a member of at most k_gzip_chunk_size bytes first: libdeflate's
  // bound for a 1 MiB chunk is just over 1 MiB, which took a block of the next
  // size class (1.25 MiB, brought in whole) for output that is a third of that
  // (util/page_arena.hpp). A chunk that passed the probe saves far more than
  // its member's 18 bytes of header and trailer, so the second try, with the
  // bound, is a guard; the bytes are the same either way.
  constexpr size_t k_framing = sizeof k_header + 8;
  const size_t bound = libdeflate_deflate_compress_bound(compressor, chunk.input.size());
  unsigned char* out = nullptr;
  size_t n = 0;
  for (size_t room : {std::min(bound, k_gzip_chunk_size - k_framing), bound}) {
    out = chunk.output.prepare(k_framing + room);
    std::memcpy(out, k_header, sizeof k_header);
    n = libdeflate_deflate_compress(compressor, chunk.input.data(), chunk.input.size(),
                                    out + sizeof k_header, room);
    if (n != 0 || room == bound) {
      break;
    }
  }
  if (n == 0) {
    chunk.failure = "gzip: libdeflate failed to compress a chunk";
    return;
  }
  unsigned char* trailer = out + sizeof k_header + n;
  put_le32(trailer, libdeflate_crc32(0, chunk.input.data(), chunk.input.size()));
  put_le32(trailer + 4, static_cast<uint32_t>(chunk.input.size()));
  chunk.output.set_size(sizeof k_header + n + 8);
}

// compress_chunk_with() kept compressors for `level`.
void compress_chunk(int level, Chunk& chunk) {
  std::unique_ptr<Deflaters> deflaters = take_deflaters(level);
  if (!deflaters) {
    chunk.failure = "gzip: cannot create a compressor (bad level?)";
    return;
  }
  compress_chunk_with(deflaters.get(), chunk);
  kept_deflaters().give(std::move(deflaters));
}

// What the producer of a gzip stream shares with the threads that compress
// its chunks: a ring of chunks, the queue of those filled and not yet taken,
// and the in-order tail work. A job offered to the pool compresses the oldest
// queued chunk, if one is still there when it runs (the producer may have
// taken it itself); the jobs hold the ring, so it outlives a stream that
// ends before they run.
class ChunkRing {
 public:
  ChunkRing(ByteSink& downstream, ByteSink* tap, int level, size_t slots)
      : m_down(downstream), m_tap(tap), m_level(level), m_slots(slots) {}
  ~ChunkRing() {
    for (auto& slot : m_slots) {
      give_chunk(std::move(slot.chunk));
    }
  }
  ChunkRing(const ChunkRing&) = delete;
  ChunkRing& operator=(const ChunkRing&) = delete;

  // The chunk that number `m_next` will fill, once the ring has room for it;
  // null when the stream failed (error()).
  Chunk* next_chunk(util::WorkerPool* helpers) {
    if (!work_until(helpers, [&] { return m_next - m_written < m_slots.size(); })) {
      return nullptr;
    }
    Chunk& chunk = m_slots[m_next % m_slots.size()].chunk;
    if (chunk.input.capacity() == 0) {
      chunk = take_chunk();
      chunk.input.reserve(k_gzip_chunk_size);  // a new chunk's room, made once
    }
    return &chunk;
  }

  // Hands over the chunk next_chunk() gave: queued for a job (true), or, with
  // `here`, compressed on this thread and its tail work done (false).
  bool hand_over(bool here) {
    Slot& slot = m_slots[m_next % m_slots.size()];
    if (here) {
      compress_chunk(m_level, slot.chunk);
    }
    std::unique_lock lock(m_mutex);
    ++m_next;
    if (here) {
      slot.state = State::Done;
      drain(lock);
      return false;
    }
    slot.state = State::Queued;
    m_queue.push_back(&slot);
    return true;
  }

  // Compresses the oldest queued chunk on this thread, then does whatever
  // tail work is ready; false when none was queued.
  bool compress_queued() {
    Slot* slot = nullptr;
    {
      std::lock_guard lock(m_mutex);
      if (m_queue.empty()) {
        return false;
      }
      slot = m_queue.front();
      m_queue.pop_front();
      ++m_compressing;
    }
    compress_chunk(m_level, slot->chunk);
    std::unique_lock lock(m_mutex);
    --m_compressing;
    slot->state = State::Done;
    drain(lock);
    m_space.notify_all();
    return true;
  }

  // Waits until every chunk handed over is written; the stream's status.
  Status wait_written(util::WorkerPool* helpers) {
    if (!work_until(
            helpers, [&] { return m_written == m_next; }, true)) {
      return error();
    }
    return {};
  }

  // Abandons the stream: queued chunks are dropped, nothing more is written,
  // and this returns once no thread is compressing or writing for it.
  void abandon() {
    std::unique_lock lock(m_mutex);
    m_queue.clear();
    if (!m_failed) {
      m_failed = true;
      m_error = make_error(ErrorKind::Internal, "gzip: the stream was abandoned");
    }
    m_space.wait(lock, [&] { return m_compressing == 0 && !m_draining; });
  }

  Status error() {
    std::lock_guard lock(m_mutex);
    return m_error;
  }

  Status downstream_finish() { return m_down.finish(); }

 private:
  enum class State { Free, Queued, Done };
  struct Slot {
    Chunk chunk;
    State state = State::Free;
  };

  // Waits until `ready()` (checked under m_mutex) or the stream fails
  // (false); meanwhile the thread compresses this stream's queued chunks, or
  // else runs one of `helpers`' jobs, or else, with `tasks` (the stream is
  // all handed over), one of their queued tasks: the next layer, rather than
  // a CPU idle while another thread compresses this stream's last chunk (up
  // to 13 ms for 1 MiB). It sleeps only when there is none of these.
  template <class Ready>
  bool work_until(util::WorkerPool* helpers, Ready ready, bool tasks = false) {
    for (;;) {
      {
        std::unique_lock lock(m_mutex);
        if (m_failed) {
          return false;
        }
        if (ready()) {
          return true;
        }
        if (m_queue.empty() && (helpers == nullptr || !helpers->has_jobs()) &&
            (!tasks || helpers == nullptr || !helpers->has_tasks())) {
          m_space.wait(lock);
          continue;
        }
      }
      if (!compress_queued() && helpers != nullptr && !helpers->help() && tasks) {
        helpers->run_task();
      }
    }
  }

  // The tail work of the finished chunks, oldest first, unless another thread
  // is at it: input to the tap, member downstream, slot freed. `lock` holds
  // m_mutex; it is let go while a chunk is written.
  void drain(std::unique_lock<std::mutex>& lock) {
    if (m_draining) {
      return;  // that thread will see this chunk done before it stops
    }
    m_draining = true;
    for (;;) {
      Slot& slot = m_slots[m_written % m_slots.size()];
      if (m_failed || slot.state != State::Done) {
        break;
      }
      lock.unlock();
      Status status = write_chunk(slot.chunk);
      lock.lock();
      if (!status.ok()) {
        m_failed = true;
        m_error = status;
        m_queue.clear();
      }
      slot.chunk.input.clear();
      slot.chunk.failure = nullptr;
      slot.state = State::Free;
      ++m_written;
    }
    m_draining = false;
    m_space.notify_all();
  }

  Status write_chunk(const Chunk& chunk) {
    if (chunk.failure != nullptr) {
      return make_error(ErrorKind::Internal, chunk.failure);
    }
    if (m_tap != nullptr) {
      DISTILL_CHECK(m_tap->write(chunk.input.data(), chunk.input.size()));
    }
    return m_down.write(chunk.output.data(), chunk.output.size());
  }

  ByteSink& m_down;
  ByteSink* m_tap;  // sees the input, in order; may be null
  int m_level;
  std::vector<Slot> m_slots;  // the chunk being filled is m_slots[m_next % size]
  // Under m_mutex:
  std::mutex m_mutex;
  std::condition_variable m_space;  // tail work was done, or a chunk's compression
  std::deque<Slot*> m_queue;        // handed over, not yet taken
  uint64_t m_next = 0;              // chunks handed over
  uint64_t m_written = 0;           // chunks whose tail work is done
  unsigned m_compressing = 0;       // chunks taken and not yet done
  bool m_draining = false;
  bool m_failed = false;  // a chunk failed, or downstream did, or abandoned: m_error
  Status m_error;
};

// A gzip stream: the producer (the caller, the serial chain of a layer: an
// .xz being decoded) fills 1 MiB chunks of a ring of `threads` + 1 (at most
// 9: one filling while each thread compresses one; twice `threads` gave the
// same times and held 2 MiB more of chunks in a warm base build) and hands
// each full one to `helpers`, the pool whose threads are the build's
// (util/worker_pool.hpp): a thread of the pool with nothing else to run
// compresses it, and whichever thread finds the oldest chunk done does the
// tail work in order (input to the tap, the layer's diff_id hash; member
// downstream, the blob's hash and file). A producer whose ring is full does
// not wait: it compresses its own queued chunks, or another stream's. So the
// compressing runs on the build's threads, one per CPU, never on extra ones
// that would take turns with them. Without `helpers`, a stream asked for more
// than one thread makes a pool of its own; with one thread, every chunk is
// compressed on the producer's. A stream of one chunk (the common small
// layer) is compressed on the producer's thread.
//
// A stream of one thread given `helpers` (a layer that does not bound the
// build) runs one of their jobs after each chunk it compresses. The layer
// that bounds the build is a chain of decoding, and each of its chunks
// compressed elsewhere shortens that chain. Left to compress its own while
// the other threads made the small layers, java17's JDK and nodejs's grouped
// layer were still being decoded after every other layer was made, with one
// CPU idle between their chunks.
class GzipCompressor final : public ByteSink {
 public:
  GzipCompressor(ByteSink& downstream, ByteSink* tap, unsigned threads, int level,
                 util::WorkerPool* helpers)
      : m_helpers(helpers) {
    const unsigned width = std::clamp(threads, 1U, 8U);
    if (width == 1) {
      m_helped = helpers;
    }
    if (m_helpers == nullptr && width > 1) {
      m_own_pool = std::make_unique<util::WorkerPool>(width);
      m_helpers = m_own_pool.get();
    }
    m_ring = std::make_shared<ChunkRing>(downstream, tap, level, width == 1 ? 1 : width + 1);
    if (width == 1) {
      m_helpers = nullptr;
    }
  }
  ~GzipCompressor() override {
    m_ring->abandon();  // after finish(), nothing is in flight
    m_own_pool.reset();
  }
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  Status write(const void* data, size_t size) override {
    if (m_finished) {
      return after_finish();
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    m_total += size;
    while (size > 0) {
      if (m_filling == nullptr) {
        m_filling = m_ring->next_chunk(m_helpers);
        if (m_filling == nullptr) {
          return m_ring->error();
        }
      }
      size_t n = std::min(size, k_gzip_chunk_size - m_filling->input.size());
      m_filling->input.append(bytes, n);
      bytes += n;
      size -= n;
      if (m_filling->input.size() == k_gzip_chunk_size) {
        hand_over(false);
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
    if (m_filling != nullptr || m_total == 0) {
      if (m_filling == nullptr) {
        m_filling = m_ring->next_chunk(m_helpers);  // an empty input is one empty member
        if (m_filling == nullptr) {
          return m_ring->error();
        }
      }
      hand_over(true);  // the last chunk: no other to fill meanwhile
    }
    DISTILL_CHECK(m_ring->wait_written(m_helpers));
    return m_ring->downstream_finish();
  }

 private:
  void hand_over(bool last) {
    m_filling = nullptr;
    if (m_ring->hand_over(last || m_helpers == nullptr)) {
      m_helpers->offer([ring = m_ring] { ring->compress_queued(); });
    }
    if (m_helped != nullptr) {
      m_helped->help();  // a chunk of a stream that bounds the build, if one waits
    }
  }

  util::WorkerPool* m_helpers;           // null: every chunk on this thread
  util::WorkerPool* m_helped = nullptr;  // one thread's stream: whose jobs it runs
  std::unique_ptr<util::WorkerPool> m_own_pool;
  std::shared_ptr<ChunkRing> m_ring;
  Chunk* m_filling = nullptr;  // the chunk being filled
  uint64_t m_total = 0;        // bytes written in
  bool m_finished = false;     // finish() called
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
  static constexpr size_t k_piece = size_t{128} * 1024;

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
                                          unsigned threads, int level, ByteSink* tap,
                                          util::WorkerPool* helpers) {
  if (compression == Compression::Gzip) {
    return std::make_unique<GzipCompressor>(downstream, tap, threads, level < 0 ? 6 : level,
                                            helpers);
  }
  std::unique_ptr<ByteSink> inner;
  if (compression == Compression::Zstd) {
    inner = std::make_unique<ZstdCompressor>(downstream, level < 0 ? 3 : level);
  } else {
    inner = std::make_unique<PassThrough>(downstream);
  }
  if (tap == nullptr) {
    return inner;
  }
  return std::make_unique<Tapped>(*tap, std::move(inner));
}

void release_kept_compressors() {
  kept_deflaters().release();
  kept_chunks().release();
}

}  // namespace distill::archive
