// prefault tests (prefault.hpp): pages brought in are not faulted in again
// when touched (counted with getrusage), what a buffer held is kept, ranges
// without a whole page are refused, and file mappings read back unchanged.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "util/file_io.hpp"
#include "util/prefault.hpp"
#include "util/temp_dir.hpp"

namespace distill::util {
namespace {

constexpr size_t k_size = size_t{4} << 20;
constexpr long k_pages = 1024;  // of 4 KiB in k_size

long minor_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

// Page faults taken while writing one byte of every page of [data, data + size).
long faults_touching(char* data, size_t size) {
  long before = minor_faults();
  for (size_t i = 0; i < size; i += 4096) {
    data[i] = 1;
  }
  return minor_faults() - before;
}

char* fresh_mapping(size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

TEST(Prefault, WrittenPagesTakeNoFaultAfterward) {
  char* plain = fresh_mapping(k_size);
  char* prefaulted = fresh_mapping(k_size);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(prefaulted, nullptr);
  if (!prefault_write(prefaulted, k_size)) {
    ::munmap(plain, k_size);
    ::munmap(prefaulted, k_size);
    GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (Linux 5.14+)";
  }
  // Under a sanitizer each page touched also faults in its shadow memory, in
  // both mappings alike: what prefaulting saves is the difference.
  long without = faults_touching(plain, k_size);
  long with = faults_touching(prefaulted, k_size);
  if (without >= k_pages) {  // not huge pages, which take a fault per 2 MiB
    EXPECT_GE(without - with, k_pages * 9 / 10)
        << "prefaulted: " << with << " faults, plain: " << without;
  }
  EXPECT_LE(with, without);
  ::munmap(plain, k_size);
  ::munmap(prefaulted, k_size);
}

TEST(Prefault, KeepsWhatTheBufferHolds) {
  auto* block = static_cast<char*>(std::malloc(k_size + 123));
  ASSERT_NE(block, nullptr);
  for (size_t i = 0; i < k_size + 123; ++i) {
    block[i] = static_cast<char>(i * 7);
  }
  prefault_write(block + 5, k_size);  // unaligned at both ends
  for (size_t i = 0; i < k_size + 123; ++i) {
    ASSERT_EQ(block[i], static_cast<char>(i * 7)) << "byte " << i;
  }
  std::free(block);
}

TEST(Prefault, NoWholePageIsNothingToDo) {
  char* mapping = fresh_mapping(2 * 4096);
  ASSERT_NE(mapping, nullptr);
  EXPECT_FALSE(prefault_write(mapping + 1, 4096));  // straddles two pages, holds neither
  EXPECT_FALSE(prefault_write(mapping, 0));
  EXPECT_FALSE(prefault_read(mapping, 0));
  ::munmap(mapping, 2 * 4096);
}

TEST(Prefault, FileMappingReadsBackUnchanged) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string content(k_size, '\0');
  for (size_t i = 0; i < content.size(); ++i) {
    content[i] = static_cast<char>(i % 251);
  }
  auto path = dir->path() / "data";
  ASSERT_TRUE(write_file_atomic(path, content).ok());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* p = ::mmap(nullptr, content.size(), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(p, MAP_FAILED);
  const auto* mapped = static_cast<const char*>(p);
  // From an unaligned offset to the end: the pages at both ends are included.
  bool in = prefault_read(mapped + 100, content.size() - 100);
  long before = minor_faults();
  EXPECT_EQ(std::memcmp(mapped, content.data(), content.size()), 0);
  long faults = minor_faults() - before;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // (Under a sanitizer, reading faults in shadow memory: not counted there.)
  if (in) {
    EXPECT_LT(faults, 8) << "pages read after MADV_POPULATE_READ faulted in again";
  }
#else
  (void)in;
  (void)faults;
#endif
  ::munmap(p, content.size());
}

TEST(Prefault, MallocHookGivesUsableBlocks) {
  for (size_t size : {size_t{16}, k_prefault_min - 1, k_prefault_min, k_size}) {
    auto* block = static_cast<unsigned char*>(prefaulted_malloc(size));
    ASSERT_NE(block, nullptr) << size;
    std::memset(block, 0xab, size);
    EXPECT_EQ(block[size - 1], 0xab);
    std::free(block);
  }
}

}  // namespace
}  // namespace distill::util
