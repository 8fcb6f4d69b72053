// Streaming tar reader (libarchive) with compression auto-detection
// (gzip, xz, lzma, bzip2, zstd, none). Formats: ustar, pax, GNU (long names and
// links), v7. Paths are normalised with normalize_path; the root entry ("./" or
// "/") is skipped; hardlink targets are normalised too. Whiteout names (".wh.*")
// are passed through unchanged. Content must be consumed inside the callback.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "archive/decompress.hpp"
#include "archive/tar_entry.hpp"
#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::archive {

using TarEntryCallback = std::function<Status(const TarEntry&, ContentReader&)>;

// Reads a (possibly compressed) tar file; with `zip`, a zip file too (an
// upstream archive; never a .deb's members). Errors name `origin` and the entry path.
Status for_each_tar_entry(const std::filesystem::path& file, const TarEntryCallback& fn,
                          const std::string& origin, bool zip = false);

// The same for a (possibly compressed) tar held in memory (not copied).
// `mapped`: `data` lies in a read-only file mapping whose pages may be given
// back to the kernel once read (they are read again from the file if touched
// later), so that reading a 40 MB .deb does not leave 40 MB resident.
// `checksums`: whether an xz tar's block checks are computed (Skip: `data`
// was verified by a digest already); other codecs check what they always do.
Status for_each_tar_entry(std::string_view data, const TarEntryCallback& fn,
                          const std::string& origin, bool mapped = false,
                          Checksums checksums = Checksums::Verify);

// What the callback of for_each_tar_entry_until() says after an entry.
enum class TarNext { Continue, Stop };
using TarEntryUntilCallback = std::function<Result<TarNext>(const TarEntry&, ContentReader&)>;

// for_each_tar_entry() on a tar in memory that ends, with success, as soon as
// `fn` says Stop: the rest is neither decoded nor checked (a reader that
// needs two members of a .deb's control.tar need not decode its scripts).
Status for_each_tar_entry_until(std::string_view data, const TarEntryUntilCallback& fn,
                                const std::string& origin, Checksums checksums = Checksums::Verify);

// for_each_tar_entry() on an image layer's blob (gzip, zstd or a plain tar;
// layer_decoder.hpp) that also checks the uncompressed tar against `diff_id`,
// the one its image's config gives: the stream is hashed as it is handed to
// libarchive, in the same pass, and once the tar has ended (or `fn` said
// Stop) the rest of it is read and hashed too, padding after the tar's end
// included. A difference is Corrupt: "ORIGIN: uncompressed content has
// sha256:..., the config says sha256:...". An error of `fn` is returned as
// it is, the rest unread and unchecked. Returns the uncompressed size. A blob
// found to be `diff_id` once in this process and whose file is unchanged
// since (BlobStamp: device, inode, size, mtime, ctime) is read without being
// hashed again: `distill test` folds its view, then unpacks the same layers.
Result<uint64_t> for_each_tar_entry_verified(const std::filesystem::path& file,
                                             const crypto::Digest& diff_id,
                                             const TarEntryUntilCallback& fn,
                                             const std::string& origin);
Result<uint64_t> for_each_tar_entry_verified(const std::filesystem::path& file,
                                             const crypto::Digest& diff_id,
                                             const TarEntryCallback& fn, const std::string& origin);

// The same read of a layer's blob without the check (a layer checked when
// first read, or whose diff_id is not known): it ends, with success, as soon
// as `fn` says Stop.
Status for_each_layer_entry(const std::filesystem::path& file, const TarEntryUntilCallback& fn,
                            const std::string& origin);
Status for_each_layer_entry(const std::filesystem::path& file, const TarEntryCallback& fn,
                            const std::string& origin);

// The xz decoders kept for the next .xz tar (their dictionaries, 8 MiB each
// for a .deb) are freed to the page arena; later reads make new ones. A
// build calls it once it has made its last layer (image/execute.hpp).
void release_kept_decoders();

}  // namespace distill::archive
