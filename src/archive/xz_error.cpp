// See xz_error.hpp.
#include "archive/xz_error.hpp"

namespace distill::archive::detail {

std::string xz_message(lzma_ret code) {
  switch (code) {
    case LZMA_MEM_ERROR:
      return "xz: out of memory";
    case LZMA_FORMAT_ERROR:
      return "xz: not in the .xz format";
    case LZMA_OPTIONS_ERROR:
      return "xz: unsupported options";
    case LZMA_DATA_ERROR:
      return "xz: compressed data is corrupt";
    case LZMA_BUF_ERROR:
      return "xz: compressed data is truncated";
    default:
      return "xz: decoder error " + std::to_string(static_cast<int>(code));
  }
}

}  // namespace distill::archive::detail
