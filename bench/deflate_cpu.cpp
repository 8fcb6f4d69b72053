// deflate-cpu LEVEL: reads a byte stream (an image's uncompressed layers) on
// stdin and deflates it the way distill's gzip compressor does (libdeflate, 1 MiB
// chunks, one thread). It also hashes both sides with SHA-256 (OpenSSL, as
// distill does): an OCI layer needs the digest of its uncompressed tar (the
// config's diff_id) and of its compressed blob (the manifest's digest), so no
// tool can write the image without that work either. Prints
// "DEFLATE_CPU_SECONDS COMPRESSED_BYTES INPUT_BYTES SHA256_CPU_SECONDS".
// deflate-cpu -d: inflates the gzip file on stdin (libdeflate, the fastest
// inflater there is, in one call) and prints "CPU_SECONDS OUTPUT_BYTES".
// bench/run.sh uses it for the CPU floors of warm and cold builds
// (docs/benchmarks.md).
#include <libdeflate.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
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

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "-d") {
    return inflate_stdin();
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: deflate-cpu LEVEL < DATA\n");
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
