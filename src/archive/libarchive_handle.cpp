// libarchive reader setup shared by the tar reader and decompress().
#include "archive/libarchive_handle.hpp"

namespace distill::archive::detail {

ArchiveReadPtr new_reader(bool tar, bool zip) {
  ArchiveReadPtr a(archive_read_new());
  if (!a) {
    return a;
  }
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_lzma(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_zstd(a.get());
  if (tar) {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    if (zip) {
      archive_read_support_format_zip(a.get());
    }
  } else {
    archive_read_support_format_raw(a.get());
    archive_read_support_format_empty(a.get());  // a stream that decompresses to nothing
  }
  return a;
}

ArchiveReadPtr new_plain_tar_reader() {
  ArchiveReadPtr a(archive_read_new());
  if (a) {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
  }
  return a;
}

std::string archive_error(struct archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unknown error";
}

}  // namespace distill::archive::detail
