// deflate-cpu LEVEL: reads a byte stream (an image's uncompressed layers) on
// stdin and deflates it the way distill's gzip compressor does (libdeflate, 1 MiB
// chunks, one thread), printing "CPU_SECONDS COMPRESSED_BYTES INPUT_BYTES".
// bench/run.sh uses it for the CPU floor of a warm build (docs/benchmarks.md).
#include <libdeflate.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <vector>

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
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
  constexpr size_t k_chunk = size_t{1} << 20;
  std::vector<char> in(k_chunk);
  std::vector<char> out(libdeflate_gzip_compress_bound(compressor.get(), k_chunk));
  double cpu = 0;
  unsigned long long compressed = 0;
  unsigned long long total = 0;
  for (;;) {
    size_t n = std::fread(in.data(), 1, in.size(), stdin);
    if (n == 0) {
      break;
    }
    double start = cpu_seconds();
    compressed += libdeflate_gzip_compress(compressor.get(), in.data(), n, out.data(), out.size());
    cpu += cpu_seconds() - start;
    total += n;
  }
  std::printf("%.3f %llu %llu\n", cpu, compressed, total);
  return 0;
}
