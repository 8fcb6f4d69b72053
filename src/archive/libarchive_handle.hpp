// Internal to the archive layer: an owning handle for a libarchive reader set up
// for one of the compressed formats distill reads, and its error text.
#pragma once

#include <archive.h>

#include <memory>
#include <string>

namespace distill::archive::detail {

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchiveReadPtr = std::unique_ptr<struct archive, ArchiveReadDeleter>;

// A reader with the filters gzip, xz, lzma, bzip2, zstd (and none) enabled and
// either the tar formats (tar = true; with `zip`, zip too) or the raw format.
ArchiveReadPtr new_reader(bool tar, bool zip = false);

// A reader of the tar formats with no filter: for bytes decompressed already
// (layer_decoder.hpp), parsed as they are.
ArchiveReadPtr new_plain_tar_reader();

// libarchive's message for the last error on `a`, or "unknown error".
std::string archive_error(struct archive* a);

}  // namespace distill::archive::detail
