// Large buffers, brought in at once and reused. On the virtual machines
// builds run on, a page fault costs several microseconds, so the buffers a
// build fills whole (xz dictionaries, gzip chunks, compressors' tables,
// decoded xz blocks) come from one region whose pages are brought in when a
// block is handed out (a write to each page, page_arena.cpp), or ahead of
// that (arena_bring_in_ahead()), and are kept by size class for the next
// buffer rather than given back to the kernel, until arena_release_free()
// gives back the pages of those not in use.
//
// The region asks for transparent huge pages (MADV_HUGEPAGE), whatever the
// system's default, and starts on a 2 MiB boundary, so each step it grows by
// is one huge page. On the virtual machines builds run on (Linux 6.18 under
// Firecracker with PVM, shadow page tables), the first touch of each 4 KiB
// page costs the host about 5 us even after MADV_POPULATE_WRITE has brought
// it in: 45-57 ms for 32 MiB, against 2.1-2.7 ms on huge pages while the host
// still backs the memory (a build started within a couple of seconds of the
// last) and 55-76 ms once it has taken it back (free page reporting, about
// 2 s after memory is freed). Warm base builds, 4 KiB pages against huge:
// 44 ms of CPU and 19 ms of wall less back to back; with 6 s between builds,
// 20 ms of CPU less and the same wall time (docs/benchmarks.md, session 31).
// Until then the region was on 4 KiB pages, chosen when the first touch
// after MADV_POPULATE_WRITE cost the host nearly nothing.
//
// Blocks are kept by size class (four to a doubling, from 64 KiB) and reused;
// the region only grows, by whole 2 MiB steps. Where the
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

// Grows the region by one step (k_arena_step), brought in, for blocks not
// yet asked for, while it is under `limit` bytes; false once it is not (or
// there is no region, or arena_release_free() was called, or another thread
// is bringing in a step meanwhile). A build's first layers want their
// buffers all at once (two xz dictionaries and their gzip chunks, 20 MiB at
// two threads); brought in by a CPU that waits while the plan is made, they
// are ready when the layers start. Bringing in one step took 0.1-0.3 ms in
// warm base builds traced here, and 3.5-4.4 ms in about one call in ten (the
// host backing the huge page anew), on the build's path until then. A block
// that shares the step being brought in waits for it.
bool arena_bring_in_ahead(size_t limit);
inline constexpr size_t k_arena_step = size_t{2} << 20;

// Gives the pages of every block not in use back to the kernel (the blocks
// stay the region's, and are brought in again when handed out); the region
// grows ahead no more. A build on 4 KiB pages calls it on a thread of the
// pool once it has made its last layer, while the outputs are written: the
// process's exit would otherwise free those pages on the build's critical
// path (2-3 ms for 32 MiB here). On huge pages, see arena_on_huge_pages().
void arena_release_free();

// Whether blocks come from the region (false: from malloc()).
bool arena_active();

// Whether the region is on transparent huge pages (the system gives them).
// A process's exit then frees the pages of a build's blocks (14-15 huge
// pages for base) faster than arena_release_free() gives them back while
// other threads run (its madvise splits the huge pages a block shares and
// flushes the other CPUs' TLBs): a build gives them back only where they are
// on 4 KiB pages, which exit took 2-3 ms to free for 32 MiB.
bool arena_on_huge_pages();

// Bytes of the region in blocks handed out and not given back.
size_t arena_bytes_in_use();

// Bytes the region has grown to (0: no region).
size_t arena_size();

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
