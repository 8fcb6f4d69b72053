// Internal to the archive layer: an xz stream held whole in memory, decoded
// block by block on two threads.
//
// dpkg-deb compresses big packages with xz's multithreaded encoder, which cuts
// the data into independent blocks of 24 MiB (three times the 8 MiB
// dictionary) and lists them in the stream's index: openjdk-17's data.tar.xz
// has 8, libnode's 2. Decoded in sequence, the JDK is 2.6 CPU-seconds on one
// core while the other waits for its chunks to compress. Here the reader
// decodes the even blocks itself, streaming, as the sequential decoder would,
// while a helper thread decodes the next odd block whole into one buffer
// (allocated and brought in once; liblzma's own multithreaded decoder keeps a
// buffer for every block in flight). Output comes out in stream order, so a
// tar read from it is the same tar.
//
// Every block's check (CRC64 for dpkg-deb) and its sizes are verified as they
// are decoded; the index is checked to describe exactly the bytes given. A
// stream that is not like that (several streams, padding, a block bigger than
// k_max_block, sizes the index does not give) is not taken: xz_blocks() says
// so and the caller decodes it in sequence, where any damage is reported.
#pragma once

#include <lzma.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/page_arena.hpp"
#include "util/result.hpp"

namespace distill::archive::detail {

struct XzBlock {
  uint64_t offset = 0;        // of its header in the stream
  uint64_t unpadded = 0;      // header, compressed data and check, without padding
  uint64_t uncompressed = 0;  // what it decodes to
};

struct XzBlocks {
  lzma_stream_flags flags{};
  std::vector<XzBlock> blocks;
};

// The biggest block taken (dpkg-deb writes 24 MiB ones).
inline constexpr uint64_t k_max_block = uint64_t{64} << 20;

// The blocks of `data`, when it is exactly one xz stream whose index lists
// two or more blocks of at most k_max_block each; nullopt otherwise.
std::optional<XzBlocks> xz_blocks(std::string_view data);

class XzBlockReader {
 public:
  // The fewest blocks for which start() takes a stream: a package that big
  // (72 MiB and more: a JDK) is most of a build's decoding, while smaller
  // ones (libnode's 2 blocks) are decoded beside other packages anyway.
  static constexpr size_t k_min_blocks = 4;

  // A reader for `data` when it has k_min_blocks or more and no other reader
  // of the process is running (each holds a block's output, up to 24 MiB for
  // dpkg-deb's, and a helper's 8 MiB dictionary: one at a time keeps a
  // build's peak memory bounded); nullptr otherwise, to decode in sequence.
  // `data` outlives the reader; when `mapped`, the pages of a block are
  // brought in before it is decoded and given back once it is
  // (util/prefault.hpp). `decoder`, when given, decodes the even blocks (the
  // calling thread's own, whose dictionary is then not made twice) and
  // outlives the reader; else the reader makes one.
  static std::unique_ptr<XzBlockReader> start(std::string_view data, bool mapped,
                                              lzma_stream* decoder = nullptr);

  // A reader for blocks found by xz_blocks(), whatever their number.
  XzBlockReader(std::string_view data, XzBlocks blocks, bool mapped,
                lzma_stream* decoder = nullptr);
  ~XzBlockReader();
  XzBlockReader(const XzBlockReader&) = delete;
  XzBlockReader& operator=(const XzBlockReader&) = delete;

  // The next piece of the decoded stream, valid until the next call; empty
  // at the end. An error's message says what liblzma found and in which block.
  Result<std::string_view> next();

  // How far the reader has read its input: the pages before it are no
  // longer needed.
  [[nodiscard]] const char* consumed() const;

 private:
  void help();
  Status start_block(size_t index);

  std::string_view m_data;
  XzBlocks m_layout;
  bool m_mapped;
  size_t m_block = 0;        // the block being read
  bool m_streaming = false;  // an even block's decoder is started
  bool m_handed = false;     // an odd block's buffer was given out
  lzma_stream m_own = LZMA_STREAM_INIT;
  lzma_stream* m_stream = &m_own;      // the even blocks' decoder
  lzma_block m_header{};               // of the even block being decoded
  std::vector<lzma_filter> m_filters;  // its filters
  util::ArenaArray<uint8_t> m_out;     // the even blocks' pieces
  // The odd block the helper decoded: written by the helper while m_ready is
  // 0, read by the reader while m_ready is its block.
  util::ArenaArray<uint8_t> m_buffer;  // as big as the biggest odd block

  // Shared with the helper thread, under m_mutex.
  std::mutex m_mutex;
  std::condition_variable m_changed;
  size_t m_ready = 0;  // the block in m_buffer (0: none)
  size_t m_buffer_size = 0;
  std::optional<std::string> m_failure;
  bool m_stop = false;
  std::thread m_helper;
  bool m_claimed = false;  // holds the process's one reader (start())
};

}  // namespace distill::archive::detail
