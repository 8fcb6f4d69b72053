// Large buffers on 2 MiB pages. On the virtual machines builds run on, the
// first write to a 4 KiB page of fresh memory costs 5-7 us even after
// MADV_POPULATE_WRITE has brought it in (util/prefault.hpp): 8 MiB took 1.5 ms
// to populate, then 10-11 ms for the first memset and 0.3 ms for the second.
// On transparent huge pages the same 8 MiB take 0.2-0.6 ms in all, and a
// dictionary read at random (xz's) misses the TLB less. The buffers a build
// fills whole (xz dictionaries, gzip chunks, compressors' tables, decoded xz
// blocks) come from one region of 2 MiB-aligned memory given MADV_HUGEPAGE,
// so that they sit on huge pages whatever the system's default (`madvise`
// on Debian's kernels).
//
// Blocks are kept by size class (four to a doubling, from 64 KiB) and reused;
// the region only grows, by whole 2 MiB pages brought in at once. Where the
// region cannot be reserved or is used up, or under AddressSanitizer (whose
// checks need malloc's blocks), blocks come from malloc() plus
// prefault_write() instead.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace distill::util {

// Requests this big or bigger come from the region.
inline constexpr size_t k_arena_min = size_t{64} << 10;

// A block of at least `size` bytes, its pages brought in; nullptr when out of
// memory. Requests under k_arena_min are malloc()'s.
void* arena_allocate(size_t size);

// Gives back a block of arena_allocate() (or of malloc(): it is freed).
void arena_free(void* block);

// The size of the block arena_allocate(size) gives for a request of `size`
// >= k_arena_min: a multiple of k_arena_min, under 1.25 * size + k_arena_min.
size_t arena_block_size(size_t size);

// Whether blocks come from the region (false: from malloc()).
bool arena_active();

// Bytes of the region in blocks handed out and not given back.
size_t arena_bytes_in_use();

struct ArenaDeleter {
  void operator()(void* block) const { arena_free(block); }
};

// Bytes written before they are read (not zeroed), from the region.
template <class T>
using ArenaArray = std::unique_ptr<T[], ArenaDeleter>;

// Room for `count` T from arena_allocate(); throws std::bad_alloc when out of
// memory, as operator new does.
template <class T>
T* arena_allocate_array(size_t count) {
  auto* block = static_cast<T*>(arena_allocate(count * sizeof(T)));
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  return block;
}

template <class T>
ArenaArray<T> make_arena_array(size_t count) {
  return ArenaArray<T>(arena_allocate_array<T>(count));
}

}  // namespace distill::util
