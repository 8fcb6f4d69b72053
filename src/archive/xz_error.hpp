// Internal to the archive layer: the text for a liblzma result code, shared by
// the tar reader's xz decoder and StreamDecompressor.
#pragma once

#include <lzma.h>

#include <string>

namespace distill::archive::detail {

// "xz: compressed data is corrupt" and the like.
std::string xz_message(lzma_ret code);

}  // namespace distill::archive::detail
