// Magic-byte codec detection and decompression through libarchive's raw format
// (gzip RFC 1952, xz, lzma-alone, bzip2, zstd RFC 8878).
#include "archive/decompress.hpp"

#include <fcntl.h>
#include <libdeflate.h>

#include <memory>

#include "archive/layer_decoder.hpp"
#include "archive/libarchive_handle.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::archive {

Codec detect_codec(std::string_view head) {
  using namespace std::string_view_literals;
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) {
    return Codec::Gzip;
  }
  if (starts("\xfd"
             "7zXZ\0"sv)) {
    return Codec::Xz;
  }
  if (starts("BZh")) {
    return Codec::Bzip2;
  }
  if (starts("\x28\xb5\x2f\xfd")) {
    return Codec::Zstd;
  }
  // lzma-alone: properties byte 0x5d and a dictionary size; libarchive checks more.
  if (starts("\x5d\x00\x00"sv)) {
    return Codec::Lzma;
  }
  return Codec::Plain;
}

namespace {

Status drain_raw(struct archive* a, ByteSink& out, const std::string& origin) {
  struct archive_entry* entry = nullptr;
  int r = archive_read_next_header(a, &entry);
  if (r == ARCHIVE_EOF) {
    return out.finish();
  }
  if (r < ARCHIVE_WARN) {
    return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a));
  }
  char buffer[65536];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buffer, sizeof buffer);
    if (n < 0) {
      return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a));
    }
    if (n == 0) {
      break;
    }
    DISTILL_CHECK(out.write(buffer, static_cast<size_t>(n)));
  }
  return out.finish();
}

// A single-member gzip held whole in memory, inflated by libdeflate in one
// call (several times faster than zlib through libarchive): the trailer's
// ISIZE gives the output size. False when the data is not like that (several
// members, a size over 4 GiB, an unlikely ratio), to take the streaming path instead.
bool inflate_single_gzip(std::string_view data, std::string& out) {
  if (data.size() < 18) {
    return false;
  }
  const auto* tail = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  size_t size = static_cast<size_t>(tail[0]) | (static_cast<size_t>(tail[1]) << 8) |
                (static_cast<size_t>(tail[2]) << 16) | (static_cast<size_t>(tail[3]) << 24);
  // ISIZE is the input's word: past a plausible ratio, allocate as we go instead.
  if (size > data.size() * 32) {
    return false;
  }
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> inflater(
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  if (!inflater) {
    return false;
  }
  out.resize(size);
  size_t used_in = 0;
  size_t used_out = 0;
  libdeflate_result r = libdeflate_gzip_decompress_ex(inflater.get(), data.data(), data.size(),
                                                      out.data(), out.size(), &used_in, &used_out);
  if (r != LIBDEFLATE_SUCCESS || used_in != data.size() || used_out != size) {
    out.clear();
    return false;
  }
  return true;
}

}  // namespace

Status decompress_to(std::string_view data, ByteSink& out, const std::string& origin) {
  if (detect_codec(data) == Codec::Plain) {
    DISTILL_CHECK(out.write(data));
    return out.finish();
  }
  detail::ArchiveReadPtr a = detail::new_reader(false);
  if (!a) {
    return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
  }
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a.get()));
  }
  return drain_raw(a.get(), out, origin);
}

Result<std::string> decompress(std::string_view data, const std::string& origin) {
  std::string out;
  if (detect_codec(data) == Codec::Plain) {
    out.assign(data);
    return out;
  }
  if (detect_codec(data) == Codec::Gzip && inflate_single_gzip(data, out)) {
    return out;
  }
  out.reserve(data.size() * 4);
  StringSink sink(out);
  DISTILL_CHECK(decompress_to(data, sink, origin));
  return out;
}

Status decompress_file(const std::filesystem::path& path, ByteSink& out) {
  std::string origin = path.string();
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return util::errno_error(path, errno);
  }
  char head[8] = {};
  ssize_t got = ::pread(fd.get(), head, sizeof head, 0);
  if (got < 0) {
    return util::errno_error(path, errno);
  }
  if (detect_codec(std::string_view(head, static_cast<size_t>(got))) == Codec::Plain) {
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return util::errno_error(path, errno);
      }
      if (n == 0) {
        break;
      }
      DISTILL_CHECK(out.write(buffer, static_cast<size_t>(n)));
    }
    return out.finish();
  }
  detail::ArchiveReadPtr a = detail::new_reader(false);
  if (!a) {
    return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
  }
  if (archive_read_open_fd(a.get(), fd.get(), 65536) != ARCHIVE_OK) {
    return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a.get()));
  }
  return drain_raw(a.get(), out, origin);
}

struct GzipMemberReader::Inflater {
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> handle{
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor};
};

GzipMemberReader::GzipMemberReader(std::string_view data, size_t max_size, std::string origin)
    : m_data(data),
      m_origin(std::move(origin)),
      m_inflater(std::make_unique<Inflater>()),
      m_buffer(max_size, '\0') {}

GzipMemberReader::~GzipMemberReader() = default;

Result<bool> GzipMemberReader::next() {
  m_offset += m_content.size();
  m_member = {};
  m_content = {};
  if (m_position == m_data.size()) {
    return false;
  }
  if (!m_inflater->handle) {
    return make_error(ErrorKind::Internal, m_origin + ": cannot create a gzip decompressor");
  }
  size_t used_in = 0;
  size_t used_out = 0;
  libdeflate_result r = libdeflate_gzip_decompress_ex(
      m_inflater->handle.get(), m_data.data() + m_position, m_data.size() - m_position,
      m_buffer.data(), m_buffer.size(), &used_in, &used_out);
  if (r != LIBDEFLATE_SUCCESS) {
    return make_error(
        ErrorKind::Corrupt,
        m_origin + ": gzip member at byte " + std::to_string(m_position) +
            (r == LIBDEFLATE_INSUFFICIENT_SPACE
                 ? " inflates to more than " + std::to_string(m_buffer.size()) + " bytes"
                 : " is damaged"));
  }
  m_member = m_data.substr(m_position, used_in);
  m_content = std::string_view(m_buffer).substr(0, used_out);
  m_position += used_in;
  return true;
}

Result<UncompressedDigest> uncompressed_digest(const std::filesystem::path& path) {
  // The decoder the readers of images check diff_ids with: the same bytes.
  DISTILL_TRY(std::unique_ptr<LayerDecoder> decoder, LayerDecoder::open(path, path.string()));
  DISTILL_CHECK(decoder->drain());
  return UncompressedDigest{decoder->digest(), decoder->size()};
}

}  // namespace distill::archive
