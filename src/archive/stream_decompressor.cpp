// See stream_decompressor.hpp. gzip through zlib's inflate (RFC 1952 members,
// one after another), xz through liblzma's stream decoder (concatenated streams).
#include "archive/stream_decompressor.hpp"

#include <lzma.h>
#include <zlib.h>

#include <array>
#include <cstring>

#include "archive/xz_allocator.hpp"
#include "archive/xz_error.hpp"
#include "util/prefault.hpp"

namespace distill::archive {

namespace {
constexpr size_t k_head_size = 6;  // enough for every magic detect_codec knows
constexpr size_t k_out_size = size_t{256} * 1024;
}  // namespace

struct StreamDecompressor::Decoder {
  Codec codec = Codec::Plain;
  z_stream zs{};
  bool z_ready = false;
  bool z_member_ended = false;  // the last gzip member ended; more may follow
  lzma_stream xz = LZMA_STREAM_INIT;
  bool xz_ready = false;
  std::array<unsigned char, k_out_size> out;  // written before read: not cleared

  Decoder() {
    xz.allocator = detail::prefaulting_xz_allocator();
    util::prefault_write(out.data(), out.size());
  }

  ~Decoder() {
    if (z_ready) {
      inflateEnd(&zs);
    }
    if (xz_ready) {
      lzma_end(&xz);
    }
  }
};

StreamDecompressor::StreamDecompressor(ByteSink& downstream, std::string origin,
                                       Checksums checksums)
    : m_down(downstream), m_origin(std::move(origin)), m_checksums(checksums) {}

StreamDecompressor::~StreamDecompressor() = default;

Status StreamDecompressor::start(Codec codec) {
  m_decoder = std::make_unique<Decoder>();
  m_decoder->codec = codec;
  switch (codec) {
    case Codec::Plain:
      return {};
    case Codec::Gzip:
      if (inflateInit2(&m_decoder->zs, 16 + MAX_WBITS) != Z_OK) {
        return make_error(ErrorKind::Internal, m_origin + ": cannot start a gzip decoder");
      }
      m_decoder->z_ready = true;
      // zlib >= 1.2.9: neither compute nor compare the CRC-32 (nor ISIZE);
      // kept across inflateReset, so it holds for every member.
      if (m_checksums == Checksums::Skip && inflateValidate(&m_decoder->zs, 0) != Z_OK) {
        return make_error(ErrorKind::Internal, m_origin + ": cannot start a gzip decoder");
      }
      return {};
    case Codec::Xz:
      if (lzma_stream_decoder(
              &m_decoder->xz, UINT64_MAX,
              LZMA_CONCATENATED | (m_checksums == Checksums::Skip ? LZMA_IGNORE_CHECK : 0)) !=
          LZMA_OK) {
        return make_error(ErrorKind::Internal, m_origin + ": cannot start an xz decoder");
      }
      m_decoder->xz_ready = true;
      return {};
    default:
      return make_error(ErrorKind::Unsupported,
                        m_origin + ": only gzip, xz or plain text can be decoded as it arrives");
  }
}

Status StreamDecompressor::feed(const unsigned char* data, size_t size, bool last) {
  Decoder& d = *m_decoder;
  if (d.codec == Codec::Plain) {
    return size == 0 ? Status{} : m_down.write(data, size);
  }
  if (d.codec == Codec::Gzip) {
    d.zs.next_in = const_cast<unsigned char*>(data);  // zlib's API is not const
    d.zs.avail_in = static_cast<uInt>(size);
    for (;;) {
      if (d.z_member_ended) {
        if (d.zs.avail_in == 0) {
          break;
        }
        if (inflateReset(&d.zs) != Z_OK) {  // another member follows
          return make_error(ErrorKind::Corrupt, m_origin + ": gzip: cannot start the next member");
        }
        d.z_member_ended = false;
      }
      d.zs.next_out = d.out.data();
      d.zs.avail_out = static_cast<uInt>(d.out.size());
      int r = inflate(&d.zs, Z_NO_FLUSH);
      size_t produced = d.out.size() - d.zs.avail_out;
      if (produced > 0) {
        DISTILL_CHECK(m_down.write(d.out.data(), produced));
      }
      if (r == Z_STREAM_END) {
        d.z_member_ended = true;
        continue;
      }
      if (r == Z_BUF_ERROR) {
        break;  // no progress without more input
      }
      if (r != Z_OK) {
        return make_error(ErrorKind::Corrupt,
                          m_origin + ": gzip: " + (d.zs.msg != nullptr ? d.zs.msg : "bad data"));
      }
      if (d.zs.avail_in == 0 && d.zs.avail_out != 0) {
        break;  // everything consumed and flushed
      }
    }
    if (last && !d.z_member_ended) {
      return make_error(ErrorKind::Corrupt, m_origin + ": gzip: the data ends early");
    }
    return {};
  }
  // xz
  d.xz.next_in = data;
  d.xz.avail_in = size;
  for (;;) {
    d.xz.next_out = d.out.data();
    d.xz.avail_out = d.out.size();
    lzma_ret r = lzma_code(&d.xz, last ? LZMA_FINISH : LZMA_RUN);
    size_t produced = d.out.size() - d.xz.avail_out;
    if (produced > 0) {
      DISTILL_CHECK(m_down.write(d.out.data(), produced));
    }
    if (r == LZMA_STREAM_END) {
      return {};
    }
    if (r == LZMA_BUF_ERROR && !last) {
      return {};  // no progress without more input
    }
    if (r != LZMA_OK) {
      return make_error(ErrorKind::Corrupt, m_origin + ": " + detail::xz_message(r));
    }
    if (d.xz.avail_in == 0 && d.xz.avail_out != 0 && !last) {
      return {};  // everything consumed and flushed
    }
  }
}

Status StreamDecompressor::write(const void* data, size_t size) {
  if (m_finished) {
    return make_error(ErrorKind::Internal, m_origin + ": decompressor: write after finish()");
  }
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (!m_decoder) {
    size_t take = std::min(size, k_head_size - m_head.size());
    m_head.append(reinterpret_cast<const char*>(bytes), take);
    bytes += take;
    size -= take;
    if (m_head.size() < k_head_size) {
      return {};
    }
    DISTILL_CHECK(start(detect_codec(m_head)));
    std::string head = std::move(m_head);
    m_head.clear();
    DISTILL_CHECK(feed(reinterpret_cast<const unsigned char*>(head.data()), head.size(), false));
  }
  return feed(bytes, size, false);
}

Status StreamDecompressor::finish() {
  if (m_finished) {
    return m_result;
  }
  m_finished = true;
  m_result = [&]() -> Status {
    if (!m_decoder) {  // fewer bytes than a magic: whatever they are, plain text
      DISTILL_CHECK(start(detect_codec(m_head)));
      DISTILL_CHECK(
          feed(reinterpret_cast<const unsigned char*>(m_head.data()), m_head.size(), false));
    }
    DISTILL_CHECK(feed(nullptr, 0, true));
    return m_down.finish();
  }();
  return m_result;
}

}  // namespace distill::archive
