// See xz_block_reader.hpp. The xz file format (tukaani.org/xz/xz-file-format.txt):
// a 12-byte stream header, the blocks, the index, a 12-byte stream footer
// whose Backward Size locates the index.
#include "archive/xz_block_reader.hpp"

#include <algorithm>
#include <array>
#include <atomic>

#include "archive/xz_allocator.hpp"
#include "archive/xz_error.hpp"
#include "util/prefault.hpp"
#include "util/thread_pool.hpp"

namespace distill::archive::detail {

namespace {

constexpr size_t k_piece = size_t{1} << 20;  // an even block's output per next()

const auto* bytes_of(std::string_view data) {
  return reinterpret_cast<const uint8_t*>(data.data());
}

// A block's header decoded into `block` (its filters into `filters`, freed by
// the caller with lzma_filters_free), its sizes checked against the index's.
lzma_ret decode_header(std::string_view data, const XzBlock& at, const XzBlocks& layout,
                       lzma_block& block, lzma_filter* filters) {
  block = lzma_block{};
  block.version = 1;
  block.check = layout.flags.check;
  block.filters = filters;
  const uint8_t* header = bytes_of(data) + at.offset;
  block.header_size = lzma_block_header_size_decode(header[0]);
  if (at.offset + block.header_size > data.size()) {
    return LZMA_DATA_ERROR;
  }
  lzma_ret r = lzma_block_header_decode(&block, prefaulting_xz_allocator(), header);
  if (r != LZMA_OK) {
    return r;
  }
  // Read after the header decode, which clears it (version 1 and up).
  block.ignore_check = layout.checksums == Checksums::Skip;
  // Sets the compressed size from the index's, or checks the header's against it.
  r = lzma_block_compressed_size(&block, at.unpadded);
  if (r != LZMA_OK) {
    lzma_filters_free(filters, prefaulting_xz_allocator());
    return r;
  }
  if (block.uncompressed_size == LZMA_VLI_UNKNOWN) {
    block.uncompressed_size = at.uncompressed;
  } else if (block.uncompressed_size != at.uncompressed) {
    lzma_filters_free(filters, prefaulting_xz_allocator());
    return LZMA_DATA_ERROR;
  }
  return LZMA_OK;
}

std::string block_error(size_t index, lzma_ret r) {
  return "xz block " + std::to_string(index + 1) + ": " + xz_message(r);
}

std::atomic<bool> g_reader_running{false};

// The buffer the helper decodes into: as big as the biggest odd block.
uint64_t largest_odd_block(const XzBlocks& layout) {
  uint64_t largest = 0;
  for (size_t i = 1; i < layout.blocks.size(); i += 2) {
    largest = std::max(largest, layout.blocks[i].uncompressed);
  }
  return largest;
}

}  // namespace

std::optional<XzBlocks> xz_blocks(std::string_view data, size_t min_blocks) {
  if (data.size() < size_t{2} * LZMA_STREAM_HEADER_SIZE) {
    return std::nullopt;
  }
  XzBlocks layout;
  lzma_stream_flags header{};
  const uint8_t* in = bytes_of(data);
  if (lzma_stream_header_decode(&header, in) != LZMA_OK ||
      lzma_stream_footer_decode(&layout.flags, in + data.size() - LZMA_STREAM_HEADER_SIZE) !=
          LZMA_OK ||
      lzma_stream_flags_compare(&header, &layout.flags) != LZMA_OK) {
    return std::nullopt;  // padding after the stream, several streams, damage
  }
  const uint64_t index_size = layout.flags.backward_size;
  if (index_size > data.size() - size_t{2} * LZMA_STREAM_HEADER_SIZE) {
    return std::nullopt;
  }
  const size_t index_at = data.size() - LZMA_STREAM_HEADER_SIZE - index_size;
  lzma_index* index = nullptr;
  uint64_t memlimit = uint64_t{16} << 20;
  size_t pos = index_at;
  if (lzma_index_buffer_decode(&index, &memlimit, prefaulting_xz_allocator(), in, &pos,
                               index_at + index_size) != LZMA_OK) {
    return std::nullopt;
  }
  std::unique_ptr<lzma_index, void (*)(lzma_index*)> owned(
      index, [](lzma_index* i) { lzma_index_end(i, prefaulting_xz_allocator()); });
  // The index must describe exactly these bytes: its blocks end where it starts.
  if (pos != index_at + index_size || lzma_index_file_size(index) != data.size()) {
    return std::nullopt;
  }
  lzma_index_iter iter;
  lzma_index_iter_init(&iter, index);
  while (lzma_index_iter_next(&iter, LZMA_INDEX_ITER_BLOCK) == 0) {
    if (iter.block.uncompressed_size > k_max_block) {
      return std::nullopt;
    }
    layout.blocks.push_back(XzBlock{iter.block.compressed_file_offset, iter.block.unpadded_size,
                                    iter.block.uncompressed_size});
  }
  if (layout.blocks.size() < std::max<size_t>(min_blocks, 1)) {
    return std::nullopt;
  }
  return layout;
}

uint32_t block_dictionary(uint64_t decoded, uint32_t written, uint32_t kept) {
  uint64_t size = k_min_dictionary;
  while (size < decoded && size < written) {
    size *= 2;
  }
  const auto needed = std::max<uint32_t>(LZMA_DICT_SIZE_MIN,
                                         static_cast<uint32_t>(std::min<uint64_t>(size, written)));
  return std::max(kept, needed);
}

XzOneBlock::~XzOneBlock() {
  if (m_held) {
    lzma_filters_free(m_filters.data(), prefaulting_xz_allocator());
  }
}

uint32_t XzOneBlock::open(std::string_view data, const std::optional<XzBlocks>& layout) {
  if (!layout || layout->blocks.size() != 1) {
    return 0;
  }
  m_data = data;
  m_at = layout->blocks.front();
  m_filters[0].id = LZMA_VLI_UNKNOWN;
  if (decode_header(data, m_at, *layout, m_block, m_filters.data()) != LZMA_OK) {
    return 0;  // decode_header() freed what it decoded
  }
  m_held = true;
  for (lzma_filter* f = m_filters.data(); f->id != LZMA_VLI_UNKNOWN; ++f) {
    if ((f->id == LZMA_FILTER_LZMA2 || f->id == LZMA_FILTER_LZMA1) && f->options != nullptr) {
      m_lzma = static_cast<lzma_options_lzma*>(f->options);
      m_written = m_lzma->dict_size;
    }
  }
  return m_lzma != nullptr ? block_dictionary(m_at.uncompressed, m_written, 0) : 0;
}

uint32_t XzOneBlock::start(lzma_stream* decoder, uint32_t kept) {
  if (m_lzma == nullptr) {
    return 0;
  }
  m_lzma->dict_size = block_dictionary(m_at.uncompressed, m_written, kept);
  if (lzma_block_decoder(decoder, &m_block) != LZMA_OK) {
    return 0;
  }
  decoder->next_in = bytes_of(m_data) + m_at.offset + m_block.header_size;
  decoder->avail_in = lzma_block_total_size(&m_block) - m_block.header_size;
  return m_lzma->dict_size;
}

std::unique_ptr<XzBlockReader> XzBlockReader::start(std::string_view data, bool mapped,
                                                    lzma_stream* decoder) {
  auto layout = xz_blocks(data);
  return layout ? start(data, *layout, mapped, decoder) : nullptr;
}

std::unique_ptr<XzBlockReader> XzBlockReader::start(std::string_view data, const XzBlocks& layout,
                                                    bool mapped, lzma_stream* decoder) {
  if (layout.blocks.size() < k_min_blocks) {
    return nullptr;
  }
  bool expected = false;
  if (!g_reader_running.compare_exchange_strong(expected, true)) {
    return nullptr;
  }
  auto reader = std::make_unique<XzBlockReader>(data, layout, mapped, decoder);
  reader->m_claimed = true;
  return reader;
}

XzBlockReader::XzBlockReader(std::string_view data, XzBlocks blocks, bool mapped,
                             lzma_stream* decoder)
    : m_data(data),
      m_layout(std::move(blocks)),
      m_mapped(mapped),
      m_filters(LZMA_FILTERS_MAX + 1),
      m_out(util::make_arena_array<uint8_t>(k_piece)),
      m_buffer(util::make_arena_array<uint8_t>(largest_odd_block(m_layout))) {
  m_own.allocator = prefaulting_xz_allocator();
  if (decoder != nullptr) {
    m_stream = decoder;
  }
  m_filters[0].id = LZMA_VLI_UNKNOWN;
  m_helper = util::named_thread("distill-xz", [this] { help(); });
}

XzBlockReader::~XzBlockReader() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_changed.notify_all();
  m_helper.join();
  lzma_end(&m_own);
  lzma_filters_free(m_filters.data(), prefaulting_xz_allocator());
  if (m_claimed) {
    g_reader_running.store(false);
  }
}

// The helper: every odd block, decoded whole into m_buffer once the reader has
// given the one before back (m_ready == 0).
void XzBlockReader::help() {
  std::array<lzma_filter, LZMA_FILTERS_MAX + 1> filters{};
  filters[0].id = LZMA_VLI_UNKNOWN;
  for (size_t i = 1; i < m_layout.blocks.size(); i += 2) {
    {
      std::unique_lock lock(m_mutex);
      m_changed.wait(lock, [&] { return m_stop || m_ready == 0; });
      if (m_stop) {
        return;
      }
    }
    const XzBlock& at = m_layout.blocks[i];
    if (m_mapped) {
      util::prefault_read(m_data.data() + at.offset, at.unpadded);
    }
    lzma_block block{};
    lzma_ret r = decode_header(m_data, at, m_layout, block, filters.data());
    size_t out_pos = 0;
    if (r == LZMA_OK) {
      size_t in_pos = at.offset + block.header_size;
      r = lzma_block_buffer_decode(&block, prefaulting_xz_allocator(), bytes_of(m_data), &in_pos,
                                   at.offset + lzma_block_total_size(&block), m_buffer.get(),
                                   &out_pos, at.uncompressed);
      lzma_filters_free(filters.data(), prefaulting_xz_allocator());
      if (r == LZMA_OK && out_pos != at.uncompressed) {
        r = LZMA_DATA_ERROR;
      }
    }
    if (m_mapped) {
      util::release_pages(m_data.data() + at.offset, at.unpadded);
    }
    {
      std::lock_guard lock(m_mutex);
      if (r != LZMA_OK) {
        m_failure = block_error(i, r);
      }
      m_buffer_size = out_pos;
      m_ready = i;
    }
    m_changed.notify_all();
    if (r != LZMA_OK) {
      return;
    }
  }
}

// An even block's decoder, started on its header.
Status XzBlockReader::start_block(size_t index) {
  const XzBlock& at = m_layout.blocks[index];
  if (m_mapped) {
    util::prefault_read(m_data.data() + at.offset, at.unpadded);
  }
  lzma_ret r = decode_header(m_data, at, m_layout, m_header, m_filters.data());
  if (r == LZMA_OK) {
    r = lzma_block_decoder(m_stream, &m_header);
  }
  if (r != LZMA_OK) {
    return make_error(ErrorKind::Corrupt, block_error(index, r));
  }
  m_stream->next_in = bytes_of(m_data) + at.offset + m_header.header_size;
  m_stream->avail_in = lzma_block_total_size(&m_header) - m_header.header_size;
  m_streaming = true;
  return {};
}

Result<std::string_view> XzBlockReader::next() {
  while (m_block < m_layout.blocks.size()) {
    if (m_block % 2 == 1) {
      std::unique_lock lock(m_mutex);
      if (m_handed) {  // given out at the last call: the helper may have it back
        m_handed = false;
        m_ready = 0;
        ++m_block;
        lock.unlock();
        m_changed.notify_all();
        continue;
      }
      m_changed.wait(lock, [&] { return m_ready == m_block; });
      if (m_failure) {
        return make_error(ErrorKind::Corrupt, *m_failure);
      }
      m_handed = true;
      return std::string_view(reinterpret_cast<const char*>(m_buffer.get()), m_buffer_size);
    }
    if (!m_streaming) {
      DISTILL_CHECK(start_block(m_block));
    }
    m_stream->next_out = m_out.get();
    m_stream->avail_out = k_piece;
    lzma_ret r = LZMA_OK;
    while (m_stream->avail_out > 0 && r == LZMA_OK) {
      r = lzma_code(m_stream, LZMA_FINISH);  // the whole block is there
    }
    if (r == LZMA_STREAM_END) {
      m_streaming = false;
      lzma_filters_free(m_filters.data(), prefaulting_xz_allocator());
      ++m_block;
    } else if (r != LZMA_OK) {
      return make_error(ErrorKind::Corrupt, block_error(m_block, r));
    }
    size_t produced = k_piece - m_stream->avail_out;
    if (produced > 0) {
      return std::string_view(reinterpret_cast<const char*>(m_out.get()), produced);
    }
  }
  return std::string_view();
}

const char* XzBlockReader::consumed() const {
  if (m_streaming) {
    return reinterpret_cast<const char*>(m_stream->next_in);
  }
  size_t block = std::min(m_block, m_layout.blocks.size() - 1);
  return m_data.data() + m_layout.blocks[block].offset;
}

}  // namespace distill::archive::detail
