// See layer_decoder.hpp.
#include "archive/layer_decoder.hpp"

#include <fcntl.h>
#include <libdeflate.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "archive/compressor.hpp"
#include "archive/decompress.hpp"
#include "archive/libarchive_handle.hpp"
#include "archive/mapped_window.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/page_arena.hpp"
#include "util/thread_pool.hpp"

namespace distill::archive {

namespace {

// What next() hands out at most: a whole member of distill's gzip layers
// (compressor.hpp), so that each is inflated by one libdeflate call into it.
constexpr size_t k_piece = k_gzip_chunk_size;
// What zlib is given at a time (its avail_in is 32 bits).
constexpr size_t k_zlib_input = size_t{1} << 30;
// The pieces decoded into buffers of their own while the hashing thread is
// behind: the one being decoded, the one the reader had, one more.
constexpr size_t k_ring = 3;
// A blob this big or bigger is hashed on a thread of its own (its start costs
// some tens of microseconds; a 1 MiB blob's tar takes a millisecond or two).
constexpr size_t k_threaded_blob = size_t{1} << 20;

// A member starts here: ID1, ID2 and CM 8 (deflate), as libarchive's gzip
// filter asks before it reads one more.
bool at_gzip_member(std::string_view rest) {
  return rest.size() >= 3 && static_cast<unsigned char>(rest[0]) == 0x1f &&
         static_cast<unsigned char>(rest[1]) == 0x8b && rest[2] == 8;
}

}  // namespace

// Hashes the pieces given to it, in order, on its own thread. A piece must
// stay as it is until it is hashed (wait_for()).
class LayerDecoder::Hasher {
 public:
  Hasher() : m_thread(util::named_thread("distill-hash", [this] { run(); })) {}
  ~Hasher() {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stop = true;  // what is queued is left
    }
    m_changed.notify_all();
    m_thread.join();
  }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void add(std::string_view piece) {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_queue.push_back(piece);
    }
    m_changed.notify_all();
  }

  // Until the first `count` pieces are hashed; returns the bytes hashed.
  uint64_t wait_for(uint64_t count) {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_changed.wait(lock, [&] { return m_hashed >= count; });
    return m_bytes;
  }

  // The bytes hashed so far.
  uint64_t bytes() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_bytes;
  }

  // Once the `count` pieces given are hashed: the digest of them all.
  crypto::Digest finish(uint64_t count) {
    wait_for(count);  // the thread waits for more, and touches m_sha no more
    return m_sha.finish();
  }

 private:
  void run() {
    for (;;) {
      std::string_view piece;
      {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_changed.wait(lock, [&] { return m_stop || !m_queue.empty(); });
        if (m_stop) {
          return;
        }
        piece = m_queue.front();
      }
      m_sha.update(piece);
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_queue.pop_front();
        ++m_hashed;
        m_bytes += piece.size();
      }
      m_changed.notify_all();
    }
  }

  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<std::string_view> m_queue;
  uint64_t m_hashed = 0;  // pieces
  uint64_t m_bytes = 0;
  bool m_stop = false;
  crypto::Sha256 m_sha;
  std::thread m_thread;  // last: it starts once the rest is made
};

struct LayerDecoder::State {
  struct Unmap {
    size_t size = 0;
    void operator()(void* address) const {
      if (address != nullptr) {
        ::munmap(address, size);
      }
    }
  };
  struct FreeInflater {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  struct FreeZstd {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };

  std::unique_ptr<void, Unmap> mapping{nullptr, Unmap{}};
  std::string_view data;  // the blob, mapped
  size_t position = 0;    // of the next compressed byte to read
  uintptr_t freed = 0;    // for release_behind()
  size_t ahead = 0;       // for read_ahead()
  Codec codec = Codec::Plain;
  // k_piece bytes each, decoded into in turn (one when hashing here); Plain
  // hands out the mapping.
  std::vector<util::ArenaArray<unsigned char>> out;

  // gzip: libdeflate while members fit a piece, then zlib to the end.
  std::unique_ptr<libdeflate_decompressor, FreeInflater> inflater;
  bool zlib = false;
  z_stream zs{};
  bool zs_ready = false;
  bool in_member = false;  // zlib is inside a member

  std::unique_ptr<ZSTD_DCtx, FreeZstd> zstd;
  size_t zstd_hint = 1;  // ZSTD_decompressStream's last return: 0 at a frame's end

  detail::ArchiveReadPtr raw;  // any other codec, through libarchive's raw format

  bool threaded = false;  // big enough for the hash to have a thread of its own
  bool started = false;   // next() was called: the buffers and the hasher are made
  // Declared last, so destroyed first: it may be reading a piece until then.
  std::unique_ptr<Hasher> hasher;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (zs_ready) {
      inflateEnd(&zs);
    }
  }

  [[nodiscard]] std::string_view rest() const { return data.substr(position); }

  void consumed(size_t n) {
    position += n;
    detail::release_behind(data, data.data() + position, freed);
  }
};

LayerDecoder::LayerDecoder(std::unique_ptr<State> state, std::string origin)
    : m_state(std::move(state)), m_origin(std::move(origin)) {}

LayerDecoder::~LayerDecoder() = default;

Result<std::unique_ptr<LayerDecoder>> LayerDecoder::open(const std::filesystem::path& file,
                                                         std::string origin) {
  util::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return util::errno_error(file, errno).context(origin);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return util::errno_error(file, errno).context(origin);
  }
  auto state = std::make_unique<State>();
  if (st.st_size > 0) {
    const auto size = static_cast<size_t>(st.st_size);
    void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (address == MAP_FAILED) {
      return util::errno_error(file, errno).context(origin);
    }
    state->mapping = std::unique_ptr<void, State::Unmap>(address, State::Unmap{size});
    ::madvise(address, size, MADV_SEQUENTIAL);
    state->data = std::string_view(static_cast<const char*>(address), size);
  }
  State& s = *state;
  s.codec = detect_codec(s.data.substr(0, 8));
  switch (s.codec) {
    case Codec::Plain:
      break;
    case Codec::Gzip:
      s.inflater.reset(libdeflate_alloc_decompressor());
      if (!s.inflater) {
        return make_error(ErrorKind::Internal, origin + ": cannot start a gzip decoder");
      }
      break;
    case Codec::Zstd:
      s.zstd.reset(ZSTD_createDCtx());
      if (!s.zstd) {
        return make_error(ErrorKind::Internal, origin + ": cannot start a zstd decoder");
      }
      break;
    default: {
      s.raw = detail::new_reader(false);
      if (!s.raw) {
        return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
      }
      struct archive_entry* entry = nullptr;
      if (archive_read_open_memory(s.raw.get(), s.data.data(), s.data.size()) != ARCHIVE_OK) {
        return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(s.raw.get()));
      }
      int r = archive_read_next_header(s.raw.get(), &entry);
      if (r == ARCHIVE_EOF) {
        s.raw.reset();  // a stream that decompresses to nothing
      } else if (r < ARCHIVE_WARN) {
        return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(s.raw.get()));
      }
      break;
    }
  }
  s.threaded = s.data.size() >= k_threaded_blob;
  auto decoder =
      std::unique_ptr<LayerDecoder>(new LayerDecoder(std::move(state), std::move(origin)));
  decoder->m_stamp = BlobStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                               static_cast<uint64_t>(st.st_size),
                               st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                               st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec};
  return decoder;
}

Result<std::string_view> LayerDecoder::next() {
  if (m_ended) {
    return std::string_view();
  }
  State& s = *m_state;
  if (!s.started) {  // once it is known whether the pieces are hashed
    s.started = true;
    if (m_hash && s.threaded) {
      s.hasher = std::make_unique<Hasher>();
    }
    if (s.codec != Codec::Plain) {
      for (size_t i = 0; i < (s.hasher ? k_ring : 1); ++i) {
        s.out.push_back(util::make_arena_array<unsigned char>(k_piece));
      }
    }
  }
  unsigned char* out = nullptr;
  if (!s.out.empty()) {
    // The buffer held the piece k_ring before this one: hashed by now.
    const size_t slot = m_pieces % s.out.size();
    if (s.hasher && m_pieces >= s.out.size()) {
      s.hasher->wait_for(m_pieces - s.out.size() + 1);
    }
    out = s.out[slot].get();
  } else if (s.hasher && m_pieces >= k_ring) {
    s.hasher->wait_for(m_pieces - k_ring + 1);  // the mapping: not too far behind
  }
  DISTILL_TRY(std::string_view piece, decode(out));
  if (piece.empty()) {
    m_ended = true;
    if (m_hash) {
      m_digest = s.hasher ? s.hasher->finish(m_pieces) : m_sha.finish();
    }
    return piece;
  }
  if (s.hasher) {
    s.hasher->add(piece);
  } else if (m_hash) {
    m_sha.update(piece);
  }
  ++m_pieces;
  m_size += piece.size();
  return piece;
}

Status LayerDecoder::drain() {
  for (;;) {
    DISTILL_TRY(std::string_view piece, next());
    if (piece.empty()) {
      return {};
    }
  }
}

// The next piece, decoded into `out` (k_piece bytes) unless it is the
// mapping's, not hashed yet; empty at the end.
Result<std::string_view> LayerDecoder::decode(unsigned char* out) {
  State& s = *m_state;
  auto piece = [&](size_t n) { return std::string_view(reinterpret_cast<const char*>(out), n); };
  // Where no member starts: the end of the stream, but for its first bytes.
  auto end_of_gzip = [&]() -> Result<std::string_view> {
    if (s.position == 0) {
      return make_error(ErrorKind::Corrupt, m_origin + ": gzip: not a deflate stream");
    }
    return std::string_view();
  };
  switch (s.codec) {
    case Codec::Plain: {
      // The pages the reader and the hashing are done with go back.
      const size_t done = s.hasher ? std::min<uint64_t>(s.position, s.hasher->bytes()) : s.position;
      detail::release_behind(s.data, s.data.data() + done, s.freed);
      detail::read_ahead(s.data, s.position, s.ahead);
      std::string_view mapped = s.rest().substr(0, k_piece);
      s.position += mapped.size();
      return mapped;
    }
    case Codec::Gzip:
      while (!s.zlib) {
        if (!at_gzip_member(s.rest())) {
          return end_of_gzip();  // the end, or bytes that are no member
        }
        detail::read_ahead(s.data, s.position, s.ahead);
        size_t used_in = 0;
        size_t used_out = 0;
        libdeflate_result r = libdeflate_gzip_decompress_ex(
            s.inflater.get(), s.data.data() + s.position, s.data.size() - s.position, out, k_piece,
            &used_in, &used_out);
        if (r != LIBDEFLATE_SUCCESS) {
          // Bigger than a piece, or damaged: zlib says which, from here on.
          s.zlib = true;
          break;
        }
        s.consumed(used_in);
        if (used_out > 0) {
          return piece(used_out);
        }
      }
      for (;;) {
        if (!s.in_member) {
          if (!at_gzip_member(s.rest())) {
            return end_of_gzip();
          }
          int started = s.zs_ready ? inflateReset(&s.zs) : inflateInit2(&s.zs, 16 + MAX_WBITS);
          if (started != Z_OK) {
            return make_error(ErrorKind::Internal, m_origin + ": cannot start a gzip decoder");
          }
          s.zs_ready = true;
          s.in_member = true;
        }
        detail::read_ahead(s.data, s.position, s.ahead);
        const size_t offered = std::min(s.data.size() - s.position, k_zlib_input);
        // zlib's API is not const; it only reads the input.
        s.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data.data() + s.position));
        s.zs.avail_in = static_cast<uInt>(offered);
        s.zs.next_out = out;
        s.zs.avail_out = static_cast<uInt>(k_piece);
        int r = inflate(&s.zs, Z_NO_FLUSH);
        s.consumed(offered - s.zs.avail_in);
        const size_t produced = k_piece - s.zs.avail_out;
        if (r == Z_STREAM_END) {
          s.in_member = false;
        } else if (r == Z_BUF_ERROR || (r == Z_OK && produced == 0 && s.zs.avail_in == 0)) {
          if (s.position == s.data.size()) {
            return make_error(ErrorKind::Corrupt, m_origin + ": gzip: the data ends early");
          }
        } else if (r != Z_OK) {
          return make_error(ErrorKind::Corrupt,
                            m_origin + ": gzip: " + (s.zs.msg != nullptr ? s.zs.msg : "bad data"));
        }
        if (produced > 0) {
          return piece(produced);
        }
      }
    case Codec::Zstd: {
      ZSTD_outBuffer output{out, k_piece, 0};
      while (output.pos < output.size) {
        if (s.position == s.data.size() && s.zstd_hint == 0) {
          break;  // the last frame is out (asked again, zstd would wait for another)
        }
        detail::read_ahead(s.data, s.position, s.ahead);
        ZSTD_inBuffer input{s.data.data(), s.data.size(), s.position};
        const size_t hint = ZSTD_decompressStream(s.zstd.get(), &output, &input);
        if (ZSTD_isError(hint) != 0U) {
          return make_error(ErrorKind::Corrupt, m_origin + ": zstd: " + ZSTD_getErrorName(hint));
        }
        s.consumed(input.pos - s.position);
        s.zstd_hint = hint;
        if (input.pos == input.size && output.pos < output.size) {
          break;  // all the input is in and what it gives is out
        }
      }
      if (output.pos == 0 && s.zstd_hint != 0) {
        return make_error(ErrorKind::Corrupt, m_origin + ": zstd: the data ends early");
      }
      return piece(output.pos);
    }
    default: {
      if (!s.raw) {
        return std::string_view();
      }
      la_ssize_t n = archive_read_data(s.raw.get(), out, k_piece);
      if (n < 0) {
        return make_error(ErrorKind::Corrupt, m_origin + ": " + detail::archive_error(s.raw.get()));
      }
      return piece(static_cast<size_t>(n));
    }
  }
}

}  // namespace distill::archive
