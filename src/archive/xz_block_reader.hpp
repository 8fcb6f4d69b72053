// Internal to the archive layer: an xz stream held whole in memory, decoded
// block by block on two threads; or, of one block, with a dictionary its size
// needs (XzOneBlock, below).
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
// Every block's check (CRC64 for dpkg-deb; unless the caller says Skip,
// XzBlocks::checksums) and its sizes are verified as they are decoded; the
// index is checked to describe exactly the bytes given. A stream that is not
// like that (several streams, padding, a block bigger than k_max_block, sizes
// the index does not give) is not taken: xz_blocks() says so and the caller
// decodes it in sequence, where any damage is reported.
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

#include "archive/decompress.hpp"
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
  // Whether the blocks' checks are computed (the caller's to say: Skip for
  // bytes it verified by a digest already); their sizes always are.
  Checksums checksums = Checksums::Verify;
};

// The biggest block taken (dpkg-deb writes 24 MiB ones).
inline constexpr uint64_t k_max_block = uint64_t{64} << 20;

// The blocks of `data`, when it is exactly one xz stream whose index lists
// `min_blocks` or more blocks of at most k_max_block each; nullopt otherwise.
std::optional<XzBlocks> xz_blocks(std::string_view data, size_t min_blocks = 2);

// The dictionary to decode a block of `decoded` bytes with, written with a
// dictionary of `written` bytes, by a decoder whose dictionary is `kept`
// bytes (0: none yet, or not known). A match never reaches further back than
// the block's own output, so the smallest power of two from
// k_min_dictionary up that holds it does, capped at `written` (and at least
// liblzma's 4 KiB). A kept dictionary that big already is reused as it is:
// liblzma makes a new one whenever the size differs, and the old one's block
// is left to the page arena. Powers of two keep a decoder's growth to a few
// steps: sized exactly, the decoders of a warm python3 build grew through
// 10 KB, 100 KB, 2.1 MB, 5.4 MB and 6.9 MB and brought in 36 MiB of arena
// where 8 MiB ones took 32.
inline constexpr uint32_t k_min_dictionary = uint32_t{256} << 10;
uint32_t block_dictionary(uint64_t decoded, uint32_t written, uint32_t kept);

// The one block of an xz stream, decoded with the dictionary its size needs
// rather than the one it was written with. dpkg-deb writes every package with
// xz -6's 8 MiB dictionary, which a decoder brings in whole (util/page_arena.hpp),
// while most packages decode to less: base's nine to at most 13 MB, and seven
// of them to under 0.5 MB. A warm build brought in 28 MiB of arena for base
// and 28 for static, and now 28 and 16; python3 32 and now 30.
class XzOneBlock {
 public:
  XzOneBlock() = default;
  ~XzOneBlock();
  XzOneBlock(const XzOneBlock&) = delete;
  XzOneBlock& operator=(const XzOneBlock&) = delete;

  // The dictionary `data`'s block needs (block_dictionary(.., 0)), its
  // header decoded, when `layout` (xz_blocks(data, 1)) is of exactly one
  // block; 0 when it is not, or the header does not decode: then the caller
  // decodes the stream in sequence, where any damage is reported.
  uint32_t open(std::string_view data, const std::optional<XzBlocks>& layout);

  // Starts `decoder` on the block open() found, next_in and avail_in
  // included, with a dictionary of block_dictionary(.., `kept`) bytes; that
  // size, or 0 when liblzma cannot start. The block's check and sizes are
  // verified as it is decoded, to LZMA_STREAM_END. liblzma keeps pointers
  // into this object until the decoder is started again.
  uint32_t start(lzma_stream* decoder, uint32_t kept);

 private:
  std::string_view m_data;
  XzBlock m_at;
  lzma_block m_block{};
  std::vector<lzma_filter> m_filters = std::vector<lzma_filter>(LZMA_FILTERS_MAX + 1);
  lzma_options_lzma* m_lzma = nullptr;  // the LZMA filter's options, in m_filters
  uint32_t m_written = 0;               // the dictionary the block was written with
  bool m_held = false;                  // m_filters hold options to free
};

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
  // The same, for `data` whose blocks xz_blocks() found already.
  static std::unique_ptr<XzBlockReader> start(std::string_view data, const XzBlocks& layout,
                                              bool mapped, lzma_stream* decoder = nullptr);

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
