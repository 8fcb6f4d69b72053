#include "util/prefault.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace distill::util {

size_t page_size() {
  static const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

namespace {

// Whole pages only (`outward` false) or every page the range touches.
// (An address, not a pointer: GCC takes a const pointer to a fresh malloc()
// block for a read of uninitialised memory.)
bool populate(uintptr_t first, size_t size, int advice, bool outward) {
  const uintptr_t page = page_size();
  const uintptr_t begin = outward ? first & ~(page - 1) : (first + page - 1) & ~(page - 1);
  const uintptr_t end =
      outward ? (first + size + page - 1) & ~(page - 1) : (first + size) & ~(page - 1);
  return size > 0 && end > begin &&
         ::madvise(reinterpret_cast<void*>(begin), end - begin, advice) == 0;
}

}  // namespace

bool prefault_write(void* data, size_t size) {
  return populate(reinterpret_cast<uintptr_t>(data), size, MADV_POPULATE_WRITE, false);
}

bool prefault_read(const void* data, size_t size) {
  return populate(reinterpret_cast<uintptr_t>(data), size, MADV_POPULATE_READ, true);
}

bool release_pages(const void* data, size_t size) {
  return populate(reinterpret_cast<uintptr_t>(data), size, MADV_DONTNEED, false);
}

void* prefaulted_malloc(size_t size) {
  void* block = std::malloc(size);
  if (block != nullptr && size >= k_prefault_min) {
    prefault_write(block, size);
  }
  return block;
}

}  // namespace distill::util
