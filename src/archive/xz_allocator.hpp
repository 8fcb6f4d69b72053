// Internal to the archive layer: the allocator the xz decoders (the tar
// reader's and StreamDecompressor's) give liblzma. A decoder's dictionary
// (8 MiB for dpkg-deb's xz -6, as for Debian's Packages.xz) is written whole
// by any input bigger than it, so it comes from the page arena: brought in
// at once and kept for the next decoder (util/page_arena.hpp).
#pragma once

#include <lzma.h>

namespace distill::archive::detail {

const lzma_allocator* prefaulting_xz_allocator();

}  // namespace distill::archive::detail
