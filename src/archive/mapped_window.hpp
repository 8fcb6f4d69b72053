// Internal to the archive layer: reading a file mapping front to back without
// a page fault a page, nor leaving it all resident. The tar reader's mapped
// .deb members and the layer decoder's blobs both go through it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace distill::archive::detail {

// Makes sure the mapped pages of the next 1 MiB from `at` are in before they
// are read, bringing in 2 MiB at a time: one system call instead of a page
// fault for every 64 KiB (the kernel's fault-around). `ahead`: the offset up
// to which pages were brought in (0 at first).
void read_ahead(std::string_view data, size_t at, size_t& ahead);

// Gives back to the kernel the pages of a file mapping below `upto` (and from
// the first whole page of `data`) once they are 4 MiB or more: advice only, a
// failure leaves them resident. The rest goes with the mapping. `freed`: the
// address up to which pages were given back (0 at first).
void release_behind(std::string_view data, const void* upto, uintptr_t& freed);

}  // namespace distill::archive::detail
