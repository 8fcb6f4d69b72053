// StreamDecompressor: decompression for bytes that arrive in pieces.
//
// A ByteSink that takes a compressed stream (gzip with one or more members,
// xz, or plain text; detected from the first bytes) and writes what it
// decompresses to a downstream sink, so that a download can be decoded while
// it is still coming in. finish() fails on a truncated stream or trailing
// garbage; errors name `origin`.
#pragma once

#include <memory>
#include <string>

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"

namespace distill::archive {

class StreamDecompressor final : public ByteSink {
 public:
  StreamDecompressor(ByteSink& downstream, std::string origin,
                     Checksums checksums = Checksums::Verify);
  ~StreamDecompressor() override;
  StreamDecompressor(const StreamDecompressor&) = delete;
  StreamDecompressor& operator=(const StreamDecompressor&) = delete;

  Status write(const void* data, size_t size) override;
  using ByteSink::write;
  Status finish() override;

 private:
  struct Decoder;
  Status start(Codec codec);
  Status feed(const unsigned char* data, size_t size, bool last);

  ByteSink& m_down;
  std::string m_origin;
  Checksums m_checksums;
  std::string m_head;  // the first bytes, until the codec is known
  std::unique_ptr<Decoder> m_decoder;
  bool m_finished = false;
  Status m_result;
};

}  // namespace distill::archive
