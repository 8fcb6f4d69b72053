// Streaming tar reader on libarchive (ustar/pax/GNU, compressed or not); turns
// libarchive entries into normalised TarEntry values (see tar_reader.hpp).
#include "archive/tar_reader.hpp"

#include <archive_entry.h>
#include <fcntl.h>
#include <lzma.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "archive/decompress.hpp"
#include "archive/layer_decoder.hpp"
#include "archive/libarchive_handle.hpp"
#include "archive/mapped_window.hpp"
#include "archive/xz_allocator.hpp"
#include "archive/xz_block_reader.hpp"
#include "archive/xz_error.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/kept_objects.hpp"
#include "util/page_arena.hpp"

namespace distill::archive {

namespace {

using detail::read_ahead;
using detail::release_behind;

class ArchiveContentReader final : public ContentReader {
 public:
  ArchiveContentReader(struct archive* a, const std::string& origin, const std::string& path)
      : m_archive(a), m_origin(origin), m_path(path) {}

  Result<size_t> read(void* buffer, size_t size) override {
    DISTILL_TRY(std::string_view got, read_view(static_cast<char*>(buffer), size));
    if (!got.empty() && got.data() != buffer) {
      std::memcpy(buffer, got.data(), got.size());
    }
    return got.size();
  }

  // libarchive's blocks as it holds them (archive_read_data_block: for a
  // tar, the decoder's output itself); the holes of a sparse file, between
  // its blocks and at its end, read as zeros.
  Result<std::string_view> read_view(char* buffer, size_t size) override {
    if (size == 0) {
      return std::string_view();
    }
    for (;;) {
      if (m_block_offset > m_position) {  // a hole before the block
        size_t n = static_cast<size_t>(
            std::min<la_int64_t>(m_block_offset - m_position, static_cast<la_int64_t>(size)));
        std::memset(buffer, 0, n);
        m_position += static_cast<la_int64_t>(n);
        return std::string_view(buffer, n);
      }
      if (!m_block.empty()) {
        std::string_view view = m_block.substr(0, size);
        m_block.remove_prefix(view.size());
        m_position += static_cast<la_int64_t>(view.size());
        m_block_offset = m_position;
        return view;
      }
      if (m_ended) {
        return std::string_view();
      }
      DISTILL_CHECK(next_block());
    }
  }

 private:
  Status next_block() {
    const void* data = nullptr;
    size_t length = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(m_archive, &data, &length, &offset);
    if (r == ARCHIVE_EOF) {
      // `offset` is then the file's size: a hole at its end is read too.
      m_ended = true;
      length = 0;
      offset = std::max(offset, m_position);
    } else if (r != ARCHIVE_OK) {
      return make_error(ErrorKind::Corrupt,
                        m_origin + ": " + m_path + ": " + detail::archive_error(m_archive));
    }
    if (offset < m_position) {
      return make_error(ErrorKind::Corrupt,
                        m_origin + ": " + m_path + ": sparse blocks out of order");
    }
    m_block = std::string_view(static_cast<const char*>(data), length);
    m_block_offset = offset;
    return {};
  }

  struct archive* m_archive;
  const std::string& m_origin;
  const std::string& m_path;
  std::string_view m_block;       // what is left of libarchive's current block
  la_int64_t m_block_offset = 0;  // where that starts in the file
  la_int64_t m_position = 0;      // bytes of the file given so far
  bool m_ended = false;           // libarchive said end of file
};

// True for "/", ".", "./", "//." and similar: the archive root.
bool is_root(std::string_view raw) {
  for (char c : raw) {
    if (c != '/' && c != '.') {
      return false;
    }
  }
  // Only slashes and dots: the root unless some component is "..".
  return raw.find("..") == std::string_view::npos;
}

const char* entry_pathname(struct archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  return name != nullptr ? name : archive_entry_pathname_utf8(entry);
}

Status read_entries(struct archive* a, const TarEntryUntilCallback& fn, const std::string& origin) {
  struct archive_entry* raw = nullptr;
  TarEntry entry;
  for (;;) {
    int r = archive_read_next_header(a, &raw);
    if (r == ARCHIVE_EOF) {
      return {};
    }
    if (r < ARCHIVE_WARN) {
      return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a));
    }
    const char* name = entry_pathname(raw);
    if (name == nullptr) {
      return make_error(ErrorKind::Corrupt, origin + ": entry without a path");
    }
    std::string_view raw_path(name);
    if (is_root(raw_path)) {
      continue;
    }
    DISTILL_TRY(entry.path, normalize_path(raw_path, origin));

    entry.link_target.clear();
    entry.size = 0;
    entry.dev_major = 0;
    entry.dev_minor = 0;
    const char* hardlink = archive_entry_hardlink(raw);
    if (hardlink != nullptr) {
      entry.type = EntryType::Hardlink;
      DISTILL_TRY(entry.link_target, normalize_path(hardlink, origin));
    } else {
      switch (archive_entry_filetype(raw)) {
        case AE_IFREG:
          entry.type = EntryType::File;
          break;
        case AE_IFDIR:
          entry.type = EntryType::Directory;
          break;
        case AE_IFLNK: {
          entry.type = EntryType::Symlink;
          const char* target = archive_entry_symlink(raw);
          if (target == nullptr) {
            target = archive_entry_symlink_utf8(raw);
          }
          if (target == nullptr || *target == '\0') {
            return make_error(ErrorKind::Corrupt,
                              origin + ": " + entry.path + ": symlink without a target");
          }
          entry.link_target = target;
          break;
        }
        case AE_IFCHR:
          entry.type = EntryType::CharDevice;
          break;
        case AE_IFBLK:
          entry.type = EntryType::BlockDevice;
          break;
        case AE_IFIFO:
          entry.type = EntryType::Fifo;
          break;
        default:
          return make_error(ErrorKind::Unsupported,
                            origin + ": " + entry.path + ": unsupported tar entry type");
      }
    }
    if (entry.type == EntryType::File) {
      la_int64_t size = archive_entry_size(raw);
      if (size < 0) {
        return make_error(ErrorKind::Corrupt, origin + ": " + entry.path + ": negative size");
      }
      entry.size = static_cast<uint64_t>(size);
    }
    if (entry.type == EntryType::CharDevice || entry.type == EntryType::BlockDevice) {
      entry.dev_major = static_cast<uint32_t>(archive_entry_rdevmajor(raw));
      entry.dev_minor = static_cast<uint32_t>(archive_entry_rdevminor(raw));
    }
    entry.mode = static_cast<uint32_t>(archive_entry_perm(raw)) & 07777;
    la_int64_t uid = archive_entry_uid(raw);
    la_int64_t gid = archive_entry_gid(raw);
    if (uid < 0 || gid < 0 || uid > UINT32_MAX || gid > UINT32_MAX) {
      return make_error(ErrorKind::Corrupt, origin + ": " + entry.path + ": uid/gid out of range");
    }
    entry.uid = static_cast<uint32_t>(uid);
    entry.gid = static_cast<uint32_t>(gid);
    const char* uname = archive_entry_uname(raw);
    const char* gname = archive_entry_gname(raw);
    entry.uname = uname != nullptr ? uname : "";
    entry.gname = gname != nullptr ? gname : "";
    entry.mtime = archive_entry_mtime(raw);

    ArchiveContentReader content(a, origin, entry.path);
    MemoryContentReader empty({});
    ContentReader& reader = entry.type == EntryType::File ? static_cast<ContentReader&>(content)
                                                          : static_cast<ContentReader&>(empty);
    DISTILL_TRY(TarNext next, fn(entry, reader));
    if (next == TarNext::Stop) {
      return {};
    }
  }
}

// A callback that reads every entry, as one that never stops.
TarEntryUntilCallback to_the_end(const TarEntryCallback& fn) {
  return [&fn](const TarEntry& entry, ContentReader& content) -> Result<TarNext> {
    DISTILL_CHECK(fn(entry, content));
    return TarNext::Continue;
  };
}

// Bytes of a file mapping handed to libarchive a block at a time; the pages
// of blocks libarchive is done with (it holds a block only until it asks for
// the next) are given back with MADV_DONTNEED.
struct MappedSource {
  std::string_view data;
  size_t next = 0;      // offset of the next block
  uintptr_t freed = 0;  // address up to which pages were given back
  size_t ahead = 0;     // offset up to which pages were brought in
};

constexpr size_t k_mapped_block = 1U << 20;
// What an xz tar is decoded into, a piece at a time. libarchive copies each
// piece out before the next is decoded, so a bigger one gains nothing (64 KiB,
// 256 KiB and 1 MiB pieces took the same time); a smaller one is less fresh
// memory for a decoding thread to bring in (util/page_arena.hpp).
constexpr size_t k_xz_out = size_t{256} << 10;
// What for_each_tar_entry_until() decodes at a time: libc6's control.tar has
// control and md5sums in its first 24 KiB of 300.
constexpr size_t k_stop_piece = size_t{32} << 10;

la_ssize_t read_mapped(struct archive* /*a*/, void* context, const void** buffer) {
  auto* source = static_cast<MappedSource*>(context);
  release_behind(source->data, source->data.data() + source->next, source->freed);
  size_t n = std::min(k_mapped_block, source->data.size() - source->next);
  read_ahead(source->data, source->next, source->ahead);
  *buffer = source->data.data() + source->next;
  source->next += n;
  return static_cast<la_ssize_t>(n);
}

// An xz decoder and its output buffer, kept from one .deb to the next:
// liblzma reuses the decoder's dictionary when it is initialised again on the
// same stream, so its pages are not faulted in and zeroed afresh for every
// package. The dictionary is brought in at once when first made
// (xz_allocator.hpp), the output buffer comes from the page arena
// (util/page_arena.hpp): it was a vector, cleared when first sized, and each
// decoding thread's first write to its fresh 4 KiB pages took 1-2 ms.
struct KeptXzDecoder {
  lzma_stream stream = LZMA_STREAM_INIT;
  uint32_t dictionary = 0;  // its dictionary's size, when known (detail::XzOneBlock)
  util::ArenaArray<uint8_t> out{util::arena_allocate_array<uint8_t>(k_xz_out)};

  KeptXzDecoder() { stream.allocator = detail::prefaulting_xz_allocator(); }
  KeptXzDecoder(const KeptXzDecoder&) = delete;
  KeptXzDecoder& operator=(const KeptXzDecoder&) = delete;
  ~KeptXzDecoder() { lzma_end(&stream); }
};

// The decoders not in use: one per decoding thread.
util::KeptObjects<std::unique_ptr<KeptXzDecoder>>& kept_decoders() {
  static auto* kept = new util::KeptObjects<std::unique_ptr<KeptXzDecoder>>(16);  // never destroyed
  return *kept;
}

// The kept decoder whose dictionary fits `dictionary` bytes most closely
// (else the biggest: liblzma makes it anew), or a new one. A build reads
// control.tar members (4 KiB dictionaries) beside 13 MB data.tar ones.
std::unique_ptr<KeptXzDecoder> take_decoder(uint32_t dictionary) {
  auto kept = kept_decoders().take_cheapest([dictionary](const auto& d) {
    return d->dictionary >= dictionary ? uint64_t{d->dictionary} - dictionary
                                       : (uint64_t{1} << 32) + dictionary - d->dictionary;
  });
  return kept ? std::move(*kept) : std::make_unique<KeptXzDecoder>();
}

void give_decoder(std::unique_ptr<KeptXzDecoder> decoder) {
  if (decoder) {
    kept_decoders().give(std::move(decoder));
  }
}

// An .xz tar held in memory, decoded on this thread and handed to libarchive
// as a plain tar: a stream of one block (one of several goes to
// XzBlockSource below). Not liblzma's multithreaded decoder: it holds a
// 24 MiB buffer for every block in flight and gave the same times as one
// thread (warm java17 3.12 s against 3.16 s) for 40 MB more peak RSS.
struct XzSource {
  std::string_view data;
  bool mapped = false;
  uintptr_t freed = 0;
  size_t ahead = 0;
  std::unique_ptr<KeptXzDecoder> decoder;  // from take_decoder()
  detail::XzOneBlock block;                // what the decoder points into; outlives it in use
  lzma_stream* stream = nullptr;
  uint8_t* out = nullptr;   // k_xz_out bytes
  size_t piece = k_xz_out;  // decoded per read, at most k_xz_out
  bool done = false;

  XzSource() = default;
  XzSource(const XzSource&) = delete;
  XzSource& operator=(const XzSource&) = delete;
  ~XzSource() { give_decoder(std::move(decoder)); }
};

// `layout`: xz_blocks(source.data, 1).
bool start_xz(XzSource& source, const std::optional<detail::XzBlocks>& layout,
              Checksums checksums) {
  // A stream of one block (a package under dpkg-deb's 24 MiB blocks) with a
  // dictionary of its size; any other in sequence, as xz would.
  const uint32_t needed = source.block.open(source.data, layout);
  source.decoder = take_decoder(needed != 0 ? needed : UINT32_MAX);
  source.stream = &source.decoder->stream;
  source.out = source.decoder->out.get();
  if (needed != 0) {
    source.decoder->dictionary = source.block.start(source.stream, source.decoder->dictionary);
    if (source.decoder->dictionary != 0) {
      return true;
    }
  }
  source.decoder->dictionary = 0;  // the stream's own, not known here
  const uint32_t flags = checksums == Checksums::Skip ? uint32_t{LZMA_IGNORE_CHECK} : 0;
  if (lzma_stream_decoder(source.stream, UINT64_MAX, flags) != LZMA_OK) {
    return false;
  }
  source.stream->next_in = reinterpret_cast<const uint8_t*>(source.data.data());
  source.stream->avail_in = source.data.size();
  return true;
}

la_ssize_t read_xz(struct archive* a, void* context, const void** buffer) {
  auto* source = static_cast<XzSource*>(context);
  if (source->done) {
    return 0;
  }
  lzma_stream& stream = *source->stream;
  uint8_t* out = source->out;
  stream.next_out = out;
  stream.avail_out = std::min(k_xz_out, source->piece);
  while (stream.avail_out > 0) {
    if (source->mapped) {
      read_ahead(source->data,
                 stream.next_in - reinterpret_cast<const uint8_t*>(source->data.data()),
                 source->ahead);
    }
    lzma_ret r = lzma_code(&stream, LZMA_FINISH);  // all the input is there already
    if (r == LZMA_STREAM_END) {
      source->done = true;
      break;
    }
    if (r != LZMA_OK) {
      archive_set_error(a, EIO, "%s", detail::xz_message(r).c_str());
      return -1;
    }
  }
  if (source->mapped) {
    release_behind(source->data, stream.next_in, source->freed);
  }
  *buffer = out;
  return static_cast<la_ssize_t>(stream.next_out - out);
}

// An .xz tar of several blocks held in memory (a big package's), decoded on
// two threads (xz_block_reader.hpp).
struct XzBlockSource {
  std::unique_ptr<KeptXzDecoder> decoder;  // its stream decodes the even blocks
  std::unique_ptr<detail::XzBlockReader> reader;
  std::string_view data;
  bool mapped = false;
  uintptr_t freed = 0;

  XzBlockSource() = default;
  XzBlockSource(const XzBlockSource&) = delete;
  XzBlockSource& operator=(const XzBlockSource&) = delete;
  ~XzBlockSource() {
    reader.reset();
    give_decoder(std::move(decoder));
  }

  // Takes `xz`, whose blocks are `layout`, when the block reader takes it.
  bool start(std::string_view xz, const detail::XzBlocks& layout, bool is_mapped) {
    if (layout.blocks.size() < detail::XzBlockReader::k_min_blocks) {
      return false;
    }
    decoder = take_decoder(UINT32_MAX);  // the biggest dictionary: the blocks' is 8 MiB
    reader = detail::XzBlockReader::start(xz, layout, is_mapped, &decoder->stream);
    if (reader) {
      decoder->dictionary = 0;  // the blocks' own, not known here
    } else {
      give_decoder(std::move(decoder));
    }
    data = xz;
    mapped = is_mapped;
    return reader != nullptr;
  }
};

la_ssize_t read_xz_blocks(struct archive* a, void* context, const void** buffer) {
  auto* source = static_cast<XzBlockSource*>(context);
  auto piece = source->reader->next();
  if (!piece.ok()) {
    archive_set_error(a, EIO, "%s", piece.error().message.c_str());
    return -1;
  }
  if (source->mapped) {
    release_behind(source->data, source->reader->consumed(), source->freed);
  }
  *buffer = piece->data();
  return static_cast<la_ssize_t>(piece->size());
}

// An xz tar is decoded `xz_piece` bytes at a time (at most k_xz_out).
Status read_memory(std::string_view data, const TarEntryUntilCallback& fn,
                   const std::string& origin, bool mapped, size_t xz_piece, Checksums checksums) {
  detail::ArchiveReadPtr a = detail::new_reader(true);
  if (!a) {
    return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
  }
  MappedSource plain{data};
  XzSource xz;
  XzBlockSource blocks;
  int opened = ARCHIVE_FATAL;
  const bool is_xz = detect_codec(data) == Codec::Xz;
  // An xz stream's blocks, read from its index once for either reader.
  std::optional<detail::XzBlocks> layout = is_xz ? detail::xz_blocks(data, 1) : std::nullopt;
  if (layout) {
    layout->checksums = checksums;
  }
  if (layout && blocks.start(data, *layout, mapped)) {
    opened = archive_read_open(a.get(), &blocks, nullptr, read_xz_blocks, nullptr);
  } else if (is_xz) {
    xz.data = data;
    xz.mapped = mapped;
    xz.piece = xz_piece;
    if (!start_xz(xz, layout, checksums)) {
      return make_error(ErrorKind::Internal, origin + ": cannot start the xz decoder");
    }
    opened = archive_read_open(a.get(), &xz, nullptr, read_xz, nullptr);
  } else if (mapped) {
    opened = archive_read_open(a.get(), &plain, nullptr, read_mapped, nullptr);
  } else {
    opened = archive_read_open_memory(a.get(), data.data(), data.size());
  }
  if (opened != ARCHIVE_OK) {
    return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a.get()));
  }
  return read_entries(a.get(), fn, origin);
}

// A layer's decoded stream handed to libarchive a piece at a time; the
// decoder's own error is kept to be returned as it is.
struct LayerSource {
  LayerDecoder* decoder = nullptr;
  std::optional<Error> error;
};

la_ssize_t read_layer(struct archive* a, void* context, const void** buffer) {
  auto* source = static_cast<LayerSource*>(context);
  auto piece = source->decoder->next();
  if (!piece.ok()) {
    archive_set_error(a, EIO, "%s", piece.error().message.c_str());
    source->error = piece.error();
    return -1;
  }
  *buffer = piece->data();
  return static_cast<la_ssize_t>(piece->size());
}

// The blobs this process found to be their diff_id, with their tar's size:
// `distill test` folds its view, then unpacks the same files for its command
// tests, and need not hash them twice.
class CheckedBlobs {
 public:
  std::optional<uint64_t> size_of(const BlobStamp& blob, const crypto::Digest& diff_id) {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_checked.find({blob, diff_id});
    return it == m_checked.end() ? std::nullopt : std::optional<uint64_t>(it->second);
  }
  void add(const BlobStamp& blob, const crypto::Digest& diff_id, uint64_t size) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_checked.emplace(std::make_pair(blob, diff_id), size);
  }

 private:
  std::mutex m_mutex;
  std::map<std::pair<BlobStamp, crypto::Digest>, uint64_t> m_checked;
};

CheckedBlobs& checked_blobs() {
  static auto* checked = new CheckedBlobs;  // never destroyed
  return *checked;
}

// A layer blob read through a LayerDecoder; checked against `diff_id` when
// one is given (the rest read and hashed after the tar), else left where the
// reading ended. Returns the bytes of the stream read.
Result<uint64_t> read_layer_blob(const std::filesystem::path& file, const crypto::Digest* diff_id,
                                 const TarEntryUntilCallback& fn, const std::string& origin) {
  DISTILL_TRY(std::unique_ptr<LayerDecoder> decoder, LayerDecoder::open(file, origin));
  // Checked before, in this process, and the file not changed since.
  const std::optional<uint64_t> checked =
      diff_id != nullptr ? checked_blobs().size_of(decoder->stamp(), *diff_id) : std::nullopt;
  if (diff_id == nullptr || checked) {
    decoder->skip_hash();
  }
  detail::ArchiveReadPtr a = detail::new_plain_tar_reader();
  if (!a) {
    return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
  }
  LayerSource source{decoder.get()};
  if (archive_read_open(a.get(), &source, nullptr, read_layer, nullptr) != ARCHIVE_OK) {
    return source.error
               ? *source.error
               : make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a.get()));
  }
  Status read = read_entries(a.get(), fn, origin);
  if (!read.ok()) {
    return source.error ? *source.error : read.error();
  }
  if (diff_id == nullptr) {
    return decoder->size();
  }
  if (checked) {
    return *checked;
  }
  // What libarchive did not ask for: the tar's padding, or what a Stop left.
  DISTILL_CHECK(decoder->drain());
  if (decoder->digest() != *diff_id) {
    return make_error(ErrorKind::Corrupt, origin + ": uncompressed content has " +
                                              decoder->digest().str() + ", the config says " +
                                              diff_id->str());
  }
  checked_blobs().add(decoder->stamp(), *diff_id, decoder->size());
  return decoder->size();
}

}  // namespace

Result<uint64_t> for_each_tar_entry_verified(const std::filesystem::path& file,
                                             const crypto::Digest& diff_id,
                                             const TarEntryUntilCallback& fn,
                                             const std::string& origin) {
  return read_layer_blob(file, &diff_id, fn, origin);
}

Status for_each_layer_entry(const std::filesystem::path& file, const TarEntryUntilCallback& fn,
                            const std::string& origin) {
  DISTILL_CHECK(read_layer_blob(file, nullptr, fn, origin));
  return {};
}

Status for_each_layer_entry(const std::filesystem::path& file, const TarEntryCallback& fn,
                            const std::string& origin) {
  return for_each_layer_entry(file, to_the_end(fn), origin);
}

Result<uint64_t> for_each_tar_entry_verified(const std::filesystem::path& file,
                                             const crypto::Digest& diff_id,
                                             const TarEntryCallback& fn,
                                             const std::string& origin) {
  return for_each_tar_entry_verified(file, diff_id, to_the_end(fn), origin);
}

Status for_each_tar_entry(std::string_view data, const TarEntryCallback& fn,
                          const std::string& origin, bool mapped, Checksums checksums) {
  return read_memory(data, to_the_end(fn), origin, mapped, k_xz_out, checksums);
}

Status for_each_tar_entry_until(std::string_view data, const TarEntryUntilCallback& fn,
                                const std::string& origin, Checksums checksums) {
  // Small pieces, so that a stop spares the decoding of what follows.
  return read_memory(data, fn, origin, false, k_stop_piece, checksums);
}

Status for_each_tar_entry(const std::filesystem::path& file, const TarEntryCallback& fn,
                          const std::string& origin, bool zip) {
  util::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return util::errno_error(file, errno);
  }
  detail::ArchiveReadPtr a = detail::new_reader(true, zip);
  if (!a) {
    return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
  }
  if (archive_read_open_fd(a.get(), fd.get(), size_t{256} << 10) != ARCHIVE_OK) {
    return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a.get()));
  }
  return read_entries(a.get(), to_the_end(fn), origin);
}

void release_kept_decoders() { kept_decoders().release(); }

}  // namespace distill::archive
