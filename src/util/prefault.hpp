// Bringing in the pages of a buffer that is about to be written (or of a file
// mapping about to be read) with one system call instead of one page fault per
// 4 KiB page. On the virtual machines builds run on, a page fault is costly:
// 9.9 us a page here (Firecracker, Linux 6.18), against 0.14 us a page for
// MADV_POPULATE_WRITE over the same 40 MiB. A warm base build took 9,300
// faults, 13% of its CPU, most of them on buffers it fills whole: the xz
// decoders' dictionaries, the gzip compressors' chunks and tables.
//
// Advice only: on a kernel without it (before 5.14), or for a range the
// kernel refuses, nothing happens and the pages fault in as before.
#pragma once

#include <cstddef>

namespace distill::util {

// The size of a memory page (sysconf, read once).
size_t page_size();

// Every whole page inside [data, data + size), mapped writable. False when
// the kernel did not take the advice (or there is no whole page).
bool prefault_write(void* data, size_t size);

// Every page that [data, data + size) of a mapping touches, mapped for reading
// (a mapping's pages are all its own, so its first and last are too).
bool prefault_read(const void* data, size_t size);

// Gives back to the kernel the whole pages inside [data, data + size) that
// will not be used again soon (MADV_DONTNEED: a later read of a file mapping
// brings them back from the file; a private anonymous page reads as zeros
// again). False when nothing was given back.
bool release_pages(const void* data, size_t size);

// malloc(), then prefault_write() when the block is `k_prefault_min` bytes or
// more: for blocks written whole where the page arena cannot take them
// (util/page_arena.hpp). free() releases it.
inline constexpr size_t k_prefault_min = size_t{64} << 10;
void* prefaulted_malloc(size_t size);

}  // namespace distill::util
