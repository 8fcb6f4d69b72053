// Layer compressors: chunked multi-member gzip (libdeflate) and single-threaded
// streaming zstd (libzstd). See compressor.hpp for the determinism rules; gzip
// member layout per RFC 1952, zstd frame per RFC 8878.
#include "archive/compressor.hpp"

#include <libdeflate.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "util/arena_bytes.hpp"
#include "util/page_arena.hpp"
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
  util::ArenaBytes input;   // up to k_gzip_chunk_size bytes
  util::ArenaBytes output;  // one complete gzip member
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

// A compressor's tables (~0.6 MiB at level 6) are written whole, so they come
// from the page arena (util/page_arena.hpp). libdeflate has one allocator for
// the process: set here, before main() starts any thread.
[[maybe_unused]] const bool k_deflate_allocator_set =
    (libdeflate_set_memory_allocator(util::arena_allocate, util::arena_free), true);

// Compressors and chunk buffers outlive the stream that used them. Allocated
// anew for every layer, each brought fresh pages to fault in and clear (a
// level-6 compressor holds its hash tables, a chunk 1 MiB in and out); kept,
// a warm base build has 8% fewer page faults. At most 16 of each are kept.
class Recycler {
 public:
  static Recycler& instance() {
    static auto* recycler = new Recycler;  // never destroyed: safe to use at exit
    return *recycler;
  }

  Deflaters take_deflaters(int level) {
    std::lock_guard lock(m_mutex);
    return m_deflaters[level].take();
  }
  void give_deflaters(int level, Deflaters d) {
    if (!d.main || !d.probe || !d.store) {
      return;
    }
    std::lock_guard lock(m_mutex);
    m_deflaters[level].give(std::move(d));
  }
  Chunk take_chunk() {
    std::lock_guard lock(m_mutex);
    return m_chunks.take();
  }
  void give_chunk(Chunk c) {
    if (c.input.capacity() == 0) {
      return;
    }
    c.input.clear();
    c.failed = false;
    std::lock_guard lock(m_mutex);
    m_chunks.give(std::move(c));
  }

 private:
  // At most 16 things of one kind, the last given taken first (empty: T{}).
  template <class T>
  struct Kept {
    std::vector<T> items;
    T take() {
      if (items.empty()) {
        return {};
      }
      T item = std::move(items.back());
      items.pop_back();
      return item;
    }
    void give(T item) {
      if (items.size() < 16) {
        items.push_back(std::move(item));
      }
    }
  };

  std::mutex m_mutex;
  std::map<int, Kept<Deflaters>> m_deflaters;  // by level
  Kept<Chunk> m_chunks;
};

// Whether a chunk will not shrink: four 16 KiB slices spread over it are
// compressed at level 1 and none gains more than 2%. A function of the bytes
// alone, so the output stays deterministic.
bool looks_incompressible(libdeflate_compressor* probe, std::span<const unsigned char> input) {
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
  libdeflate_compressor* compressor =
      looks_incompressible(deflaters.probe.get(), chunk.input.bytes()) ? deflaters.store.get()
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
  chunk.output.set_size(sizeof k_header + n + 8);
}

// Compressing threads run a little below the threads that decode and feed
// them (nice +4 on this thread only): a layer's decoder is a serial chain
// that the compressors behind it can always wait for, but not the other way
// round. A warm base build otherwise ended with libc6's decoder alone, having
// shared its core with the compressors: 0.313 s -> 0.305 s (medians of 30).
void yield_to_producers() { ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 4); }

// A ring of 2 * `width` chunks (`width` = the threads asked for, at most 8): the
// producer fills one chunk after another and hands each full chunk to `width`
// compressing threads at once, waiting only when every chunk of the ring is
// still in flight. The chunks' tail work is done in order by whichever
// compressing thread finds the oldest chunk finished: its input goes to the
// tap (the layer's diff_id hash), its member downstream (the blob's hash and
// file). So the producer, the serial chain of a layer (an .xz being decoded),
// carries no hashing or writing of its own; in nodejs's and python3's builds
// that chain is the last thing running. With no batch barrier, a slow chunk
// does not hold the other threads idle. A stream of one chunk (the common
// small layer) is compressed on the producer's thread, without starting any
// thread.
class GzipCompressor final : public ByteSink {
 public:
  GzipCompressor(ByteSink& downstream, ByteSink* tap, unsigned threads, int level)
      : m_down(downstream),
        m_tap(tap),
        m_width(std::clamp(threads, 1U, 8U)),
        m_level(level),
        m_slots(m_width == 1 ? 1 : 2 * m_width) {}
  ~GzipCompressor() override {
    {
      std::lock_guard lock(m_mutex);
      m_queue.clear();  // abandoned: no use compressing the rest,
      m_failed = true;  // nor writing what is in flight (after finish(), nothing is)
    }
    stop();
    Recycler& recycler = Recycler::instance();
    for (auto& slot : m_slots) {
      recycler.give_chunk(std::move(slot.chunk));
    }
    recycler.give_deflaters(m_level, std::move(m_inline));
    for (auto& d : m_deflaters) {
      recycler.give_deflaters(m_level, std::move(d));
    }
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
      if (!m_filling) {
        DISTILL_CHECK(take_slot());
      }
      Chunk& chunk = m_slots[*m_filling].chunk;
      size_t n = std::min(size, k_gzip_chunk_size - chunk.input.size());
      chunk.input.append(bytes, n);
      bytes += n;
      size -= n;
      if (chunk.input.size() == k_gzip_chunk_size) {
        DISTILL_CHECK(submit(false));
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
    if (m_filling || m_total == 0) {
      if (!m_filling) {
        DISTILL_CHECK(take_slot());  // an empty input is one empty member
      }
      // Nothing in flight: compressed here, without starting a thread.
      bool idle = false;
      {
        std::lock_guard lock(m_mutex);
        idle = m_written == m_next;
      }
      DISTILL_CHECK(submit(idle));
    }
    {
      std::unique_lock lock(m_mutex);
      m_space.wait(lock, [&] { return m_failed || m_written == m_next; });
    }
    stop();
    if (m_failed) {
      return m_error;
    }
    return m_down.finish();
  }

 private:
  enum class State { Free, Queued, Done };
  struct Slot {
    Chunk chunk;
    State state = State::Free;
  };

  Status ready_deflaters(Deflaters& d) const {
    if (!d.main) {
      d = Recycler::instance().take_deflaters(m_level);
    }
    if (!d.main) {
      d = {DeflatePtr(libdeflate_alloc_compressor(m_level)),
           DeflatePtr(libdeflate_alloc_compressor(1)), DeflatePtr(libdeflate_alloc_compressor(0))};
    }
    if (!d.main || !d.probe || !d.store) {
      return make_error(ErrorKind::InvalidInput, "gzip: cannot create a compressor (bad level?)");
    }
    return {};
  }

  // The slot that chunk number m_next will fill, once its tail work is done.
  Status take_slot() {
    {
      std::unique_lock lock(m_mutex);
      m_space.wait(lock, [&] { return m_failed || m_next - m_written < m_slots.size(); });
      if (m_failed) {
        return m_error;
      }
    }
    m_filling = m_next % m_slots.size();
    Chunk& chunk = m_slots[*m_filling].chunk;
    if (chunk.input.capacity() == 0) {
      chunk = Recycler::instance().take_chunk();
      chunk.input.reserve(k_gzip_chunk_size);  // a new chunk's room, made once
    }
    return {};
  }

  // Queues the filled chunk for the compressing threads, or (with one thread,
  // or `here`) compresses it on this one and does the tail work. Fails only
  // when no compressor can be made.
  Status submit(bool here) {
    Slot& slot = m_slots[*m_filling];
    m_filling.reset();
    if (m_width == 1 || here) {
      DISTILL_CHECK(ready_deflaters(m_inline));
      compress_chunk(m_inline, slot.chunk);
      std::unique_lock lock(m_mutex);
      ++m_next;
      slot.state = State::Done;
      drain(lock);
      return {};
    }
    if (m_workers.empty()) {
      for (unsigned i = 0; i < m_width; ++i) {
        m_deflaters.emplace_back();
        DISTILL_CHECK(ready_deflaters(m_deflaters.back()));
      }
      for (unsigned i = 0; i < m_width; ++i) {
        m_workers.push_back(util::named_thread("distill-gzip", [this, i] {
          yield_to_producers();
          work(m_deflaters[i]);
        }));
      }
    }
    {
      std::lock_guard lock(m_mutex);
      ++m_next;
      slot.state = State::Queued;
      m_queue.push_back(&slot);
    }
    m_wake.notify_one();
    return {};
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
      slot.state = State::Free;
      ++m_written;
      m_space.notify_all();
    }
    m_draining = false;
  }

  Status write_chunk(const Chunk& chunk) {
    if (chunk.failed) {
      return make_error(ErrorKind::Internal, "gzip: libdeflate failed to compress a chunk");
    }
    if (m_tap != nullptr) {
      DISTILL_CHECK(m_tap->write(chunk.input.data(), chunk.input.size()));
    }
    return m_down.write(chunk.output.data(), chunk.output.size());
  }

  void work(Deflaters& deflaters) {
    for (;;) {
      Slot* slot = nullptr;
      {
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
        if (m_queue.empty()) {
          return;
        }
        slot = m_queue.front();
        m_queue.pop_front();
      }
      compress_chunk(deflaters, slot->chunk);
      std::unique_lock lock(m_mutex);
      slot->state = State::Done;
      drain(lock);
    }
  }

  // Lets the threads finish what is queued, then joins them.
  void stop() {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_wake.notify_all();
    for (auto& worker : m_workers) {
      worker.join();
    }
    m_workers.clear();
  }

  ByteSink& m_down;
  ByteSink* m_tap;  // sees the input, in order; may be null
  unsigned m_width;
  int m_level;
  std::vector<Slot> m_slots;
  std::optional<size_t> m_filling;  // the slot being filled (producer only)
  uint64_t m_total = 0;             // bytes written in (producer only)
  bool m_finished = false;          // finish() called (producer only)
  Deflaters m_inline;               // for chunks compressed on the producer's thread
  std::deque<Deflaters> m_deflaters;
  std::vector<std::thread> m_workers;
  // Under m_mutex:
  std::mutex m_mutex;
  std::condition_variable m_wake;   // a chunk was queued, or stop
  std::condition_variable m_space;  // a chunk's tail work was done, or the stream failed
  std::deque<Slot*> m_queue;
  uint64_t m_next = 0;     // chunks handed over (the filling one excluded)
  uint64_t m_written = 0;  // chunks whose tail work is done
  bool m_draining = false;
  bool m_failed = false;  // a chunk failed, or downstream did: m_error
  Status m_error;
  bool m_stopping = false;
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
                                          unsigned threads, int level, ByteSink* tap) {
  if (compression == Compression::Gzip) {
    return std::make_unique<GzipCompressor>(downstream, tap, threads, level < 0 ? 6 : level);
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

}  // namespace distill::archive
