// deflate-cpu LEVEL: reads a byte stream (an image's uncompressed layers) on
// stdin and deflates it the way distill's gzip compressor does (libdeflate, 1 MiB
// chunks, one thread). It also hashes both sides with SHA-256 (OpenSSL, as
// distill does): an OCI layer needs the digest of its uncompressed tar (the
// config's diff_id) and of its compressed blob (the manifest's digest), so no
// tool can write the image without that work either. Prints
// "DEFLATE_CPU_SECONDS COMPRESSED_BYTES INPUT_BYTES SHA256_CPU_SECONDS".
// deflate-cpu -d: inflates the gzip file on stdin (libdeflate, the fastest
// inflater there is, in one call) and prints "CPU_SECONDS OUTPUT_BYTES".
// deflate-cpu -x: decodes the data.tar member of every .deb named on stdin (one
// path a line) with the library xz, zstd and gzip themselves use (liblzma,
// libzstd, zlib), checks included, the output thrown away; prints
// "CPU_SECONDS OUTPUT_BYTES". In one process, so that the floor does not count
// starting an `ar`, a `grep` and an `xz` for every package (a quarter or more
// of the decode time measured that way for base's nine small packages).
// bench/run.sh uses it for the CPU floors of warm and cold builds
// (docs/benchmarks.md).
#include <libdeflate.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

using Digest = std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)>;

Digest new_digest() {
  Digest ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "deflate-cpu: cannot start SHA-256\n");
    std::exit(1);
  }
  return ctx;
}

int inflate_stdin() {
  std::vector<char> in;
  std::vector<char> buffer(size_t{1} << 20);
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), stdin)) {
    in.insert(in.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
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

// The data.tar member of an ar archive (a .deb): its name and bytes.
bool find_data_member(std::string_view deb, std::string_view& name, std::string_view& bytes) {
  constexpr std::string_view k_magic = "!<arch>\n";
  if (deb.substr(0, k_magic.size()) != k_magic) {
    return false;
  }
  size_t at = k_magic.size();
  while (at + 60 <= deb.size()) {
    std::string_view header = deb.substr(at, 60);
    std::string_view member = header.substr(0, 16);
    member = member.substr(0, member.find_last_not_of(' ') + 1);
    if (!member.empty() && member.back() == '/') {
      member.remove_suffix(1);
    }
    size_t size = std::strtoull(std::string(header.substr(48, 10)).c_str(), nullptr, 10);
    at += 60;
    if (size > deb.size() - at) {
      return false;
    }
    if (member.substr(0, 8) == "data.tar") {
      name = member;
      bytes = deb.substr(at, size);
      return true;
    }
    at += size + (size & 1);
  }
  return false;
}

// Decodes one member into a 1 MiB buffer over and over; returns the bytes
// produced, or -1.
long long decode_member(std::string_view name, std::string_view in, std::vector<uint8_t>& out) {
  const auto* next = reinterpret_cast<const uint8_t*>(in.data());
  long long produced = 0;
  if (name.ends_with(".xz")) {
    lzma_stream xz = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&xz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      return -1;
    }
    xz.next_in = next;
    xz.avail_in = in.size();
    lzma_ret r = LZMA_OK;
    while (r == LZMA_OK) {
      xz.next_out = out.data();
      xz.avail_out = out.size();
      r = lzma_code(&xz, LZMA_FINISH);
      produced += static_cast<long long>(out.size() - xz.avail_out);
    }
    lzma_end(&xz);
    return r == LZMA_STREAM_END ? produced : -1;
  }
  if (name.ends_with(".zst")) {
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> zstd(ZSTD_createDCtx(), ZSTD_freeDCtx);
    ZSTD_inBuffer input{in.data(), in.size(), 0};
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
  if (name.ends_with(".gz")) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) {
      return -1;
    }
    z.next_in = const_cast<Bytef*>(next);
    z.avail_in = static_cast<uInt>(in.size());
    int r = Z_OK;
    while (r == Z_OK) {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      r = inflate(&z, Z_NO_FLUSH);
      produced += static_cast<long long>(out.size() - z.avail_out);
    }
    inflateEnd(&z);
    return r == Z_STREAM_END ? produced : -1;
  }
  return name == "data.tar" ? static_cast<long long>(in.size()) : -1;  // .bz2, .lzma: not here
}

int decode_debs() {
  std::vector<uint8_t> out(size_t{1} << 20);
  double cpu = 0;
  long long total = 0;
  std::string path;
  while (std::getline(std::cin, path)) {
    std::ifstream file(path, std::ios::binary);
    std::string deb((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::string_view name;
    std::string_view bytes;
    if (!file.good() && !file.eof()) {
      std::fprintf(stderr, "deflate-cpu: cannot read %s\n", path.c_str());
      return 1;
    }
    if (!find_data_member(deb, name, bytes)) {
      std::fprintf(stderr, "deflate-cpu: %s: no data.tar member\n", path.c_str());
      return 1;
    }
    double start = cpu_seconds();
    long long n = decode_member(name, bytes, out);
    cpu += cpu_seconds() - start;
    if (n < 0) {
      std::fprintf(stderr, "deflate-cpu: %s: cannot decode %.*s\n", path.c_str(),
                   static_cast<int>(name.size()), name.data());
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
  Digest uncompressed = new_digest();
  Digest compressed_digest = new_digest();
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
    EVP_DigestUpdate(uncompressed.get(), in.data(), n);
    EVP_DigestUpdate(compressed_digest.get(), out.data(), member);
    sha_cpu += cpu_seconds() - deflated;
    cpu += deflated - start;
    compressed += member;
    total += n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  double start = cpu_seconds();
  EVP_DigestFinal_ex(uncompressed.get(), md, &length);
  EVP_DigestFinal_ex(compressed_digest.get(), md, &length);
  sha_cpu += cpu_seconds() - start;
  std::printf("%.3f %llu %llu %.3f\n", cpu, compressed, total, sha_cpu);
  return 0;
}
