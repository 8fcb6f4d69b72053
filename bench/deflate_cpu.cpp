// deflate-cpu LEVEL: reads a byte stream (an image's uncompressed layers) on
// stdin and deflates it the way distill's gzip compressor does (libdeflate, 1 MiB
// chunks, one thread). It also hashes both sides with SHA-256 (distill's own
// crypto::Sha256): an OCI layer needs the digest of its uncompressed tar (the
// config's diff_id) and of its compressed blob (the manifest's digest), so no
// tool can write the image without that work either. Prints
// "DEFLATE_CPU_SECONDS COMPRESSED_BYTES INPUT_BYTES SHA256_CPU_SECONDS".
// deflate-cpu -d: decodes the index on stdin and prints "CPU_SECONDS
// OUTPUT_BYTES": gzip with libdeflate in one call (the fastest inflater there
// is), xz (or plain text) with distill's StreamDecompressor (liblzma, as
// xz -dc).
// deflate-cpu -x: decodes the data.tar member of every .deb named on stdin (one
// path a line), the output thrown away; an xz member's block checks are not
// computed, as distill does not compute them for a .deb whose SHA-256 it
// verified (archive::Checksums::Skip), and a gzip member's CRC-32 is; prints
// "CPU_SECONDS OUTPUT_BYTES". xz, gzip and plain members go through distill's
// StreamDecompressor (liblzma, zlib: the libraries xz and gzip use), zstd ones
// through libzstd. In one process, so that the floor does not count starting
// an `ar`, a `grep` and an `xz` for every package (a quarter or more of the
// decode time measured that way for base's nine small packages).
// bench/run.sh uses it for the CPU floors of warm and cold builds
// (docs/benchmarks.md).
#include <libdeflate.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "archive/ar_reader.hpp"
#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "archive/stream_decompressor.hpp"
#include "crypto/sha256.hpp"
#include "util/file_io.hpp"

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Counts what it is given and keeps none of it.
class CountingSink final : public distill::archive::ByteSink {
 public:
  distill::Status write(const void* /*data*/, size_t size) override {
    bytes += size;
    return {};
  }
  using ByteSink::write;
  distill::Status finish() override { return {}; }
  unsigned long long bytes = 0;
};

// Decodes `in` (xz, gzip or plain) with StreamDecompressor; the bytes it gave,
// or -1 (an error on stderr).
long long stream_decode(std::string_view in, const std::string& origin,
                        distill::archive::Checksums checksums) {
  CountingSink count;
  distill::archive::StreamDecompressor decoder(count, origin, checksums);
  distill::Status status = decoder.write(in.data(), in.size());
  if (status.ok()) {
    status = decoder.finish();
  }
  if (!status.ok()) {
    std::fprintf(stderr, "deflate-cpu: %s\n", status.error().message.c_str());
    return -1;
  }
  return static_cast<long long>(count.bytes);
}

int inflate_stdin() {
  std::vector<char> in;
  std::vector<char> buffer(size_t{1} << 20);
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), stdin)) {
    in.insert(in.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (distill::archive::detect_codec(std::string_view(in.data(), in.size())) !=
      distill::archive::Codec::Gzip) {
    double start = cpu_seconds();
    long long n = stream_decode(std::string_view(in.data(), in.size()), "stdin",
                                distill::archive::Checksums::Verify);
    double cpu = cpu_seconds() - start;
    if (n < 0) {
      return 1;
    }
    std::printf("%.3f %lld\n", cpu, n);
    return 0;
  }
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> decompressor(
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  // The gzip trailer's ISIZE: the output size modulo 2^32.
  size_t size = in.size() < 4
                    ? 0
                    : static_cast<size_t>(static_cast<unsigned char>(in[in.size() - 4])) |
                          static_cast<size_t>(static_cast<unsigned char>(in[in.size() - 3])) << 8 |
                          static_cast<size_t>(static_cast<unsigned char>(in[in.size() - 2])) << 16 |
                          static_cast<size_t>(static_cast<unsigned char>(in[in.size() - 1])) << 24;
  std::vector<char> out(size);
  size_t produced = 0;
  double start = cpu_seconds();
  if (!decompressor ||
      libdeflate_gzip_decompress(decompressor.get(), in.data(), in.size(), out.data(), out.size(),
                                 &produced) != LIBDEFLATE_SUCCESS) {
    std::fprintf(stderr, "deflate-cpu: not a gzip file of under 4 GiB\n");
    return 1;
  }
  std::printf("%.3f %zu\n", cpu_seconds() - start, produced);
  return 0;
}

// Decodes a .zst member with libzstd until its last frame is complete; the
// bytes it gave, or -1.
long long zstd_decode(std::string_view in) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> zstd(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::vector<char> out(ZSTD_DStreamOutSize());
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  long long produced = 0;
  size_t left = 1;  // 0 once a frame is complete and all its output given
  while (input.pos < input.size || left != 0) {
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    left = ZSTD_decompressStream(zstd.get(), &output, &input);
    if (ZSTD_isError(left) != 0U || (left != 0 && output.pos == 0 && input.pos == input.size)) {
      return -1;  // damaged, or truncated mid-frame
    }
    produced += static_cast<long long>(output.pos);
  }
  return produced;
}

int decode_debs() {
  double cpu = 0;
  long long total = 0;
  std::string path;
  while (std::getline(std::cin, path)) {
    auto deb = distill::util::read_file(path);
    if (!deb.ok()) {
      std::fprintf(stderr, "deflate-cpu: %s\n", deb.error().message.c_str());
      return 1;
    }
    auto members = distill::archive::parse_ar(*deb, path);
    const distill::archive::ArMember* data = nullptr;
    if (members.ok()) {
      for (const auto& member : *members) {
        if (member.name.starts_with("data.tar")) {
          data = &member;
          break;
        }
      }
    }
    if (data == nullptr) {
      std::fprintf(stderr, "deflate-cpu: %s: no data.tar member%s\n", path.c_str(),
                   members.ok() ? "" : (" (" + members.error().message + ")").c_str());
      return 1;
    }
    std::string_view bytes = std::string_view(*deb).substr(data->offset, data->size);
    std::string origin = path + ": " + data->name;
    double start = cpu_seconds();
    const auto checksums = data->name.ends_with(".xz") ? distill::archive::Checksums::Skip
                                                       : distill::archive::Checksums::Verify;
    long long n =
        data->name.ends_with(".zst") ? zstd_decode(bytes) : stream_decode(bytes, origin, checksums);
    cpu += cpu_seconds() - start;
    if (n < 0) {
      std::fprintf(stderr, "deflate-cpu: %s: cannot decode %s\n", path.c_str(), data->name.c_str());
      return 1;
    }
    total += n;
  }
  std::printf("%.3f %lld\n", cpu, total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "-d") {
    return inflate_stdin();
  }
  if (argc == 2 && std::string_view(argv[1]) == "-x") {
    return decode_debs();
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: deflate-cpu LEVEL < DATA | -d < GZIP | -x < DEB_LIST\n");
    return 2;
  }
  int level = std::atoi(argv[1]);
  std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> compressor(
      libdeflate_alloc_compressor(level), libdeflate_free_compressor);
  if (!compressor) {
    std::fprintf(stderr, "deflate-cpu: bad level %s\n", argv[1]);
    return 2;
  }
  distill::crypto::Sha256 uncompressed;
  distill::crypto::Sha256 compressed_digest;
  constexpr size_t k_chunk = size_t{1} << 20;
  std::vector<char> in(k_chunk);
  std::vector<char> out(libdeflate_gzip_compress_bound(compressor.get(), k_chunk));
  double cpu = 0;
  double sha_cpu = 0;
  unsigned long long compressed = 0;
  unsigned long long total = 0;
  for (;;) {
    size_t n = std::fread(in.data(), 1, in.size(), stdin);
    if (n == 0) {
      break;
    }
    double start = cpu_seconds();
    size_t member =
        libdeflate_gzip_compress(compressor.get(), in.data(), n, out.data(), out.size());
    double deflated = cpu_seconds();
    uncompressed.update(in.data(), n);
    compressed_digest.update(out.data(), member);
    sha_cpu += cpu_seconds() - deflated;
    cpu += deflated - start;
    compressed += member;
    total += n;
  }
  double start = cpu_seconds();
  (void)uncompressed.finish();
  (void)compressed_digest.finish();
  sha_cpu += cpu_seconds() - start;
  std::printf("%.3f %llu %llu %.3f\n", cpu, compressed, total, sha_cpu);
  return 0;
}
