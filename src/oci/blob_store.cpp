// Content-addressed blob directory (OCI image-layout.md "blobs"): every blob is
// published whole via a temp file + rename; a file is copied in (or reflinked),
// never hard-linked, and verified against its digest on the way.
#include "oci/blob_store.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "util/atomic_file.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/interrupt.hpp"

namespace distill::oci {

namespace {

constexpr size_t k_buffer_size = 1 << 16;

Result<util::Fd> open_for_reading(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return util::errno_error(path, errno);
  }
  return util::Fd(fd);
}

// Reads up to `size` bytes, retrying on EINTR; 0 at end of file.
Result<size_t> read_some(int fd, char* buffer, size_t size, const std::filesystem::path& path) {
  for (;;) {
    ssize_t n = ::read(fd, buffer, size);
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      return util::errno_error(path, errno);
    }
  }
}

// Copies `source` to an AtomicFile at `destination` (a reflink when the
// filesystem can), hashing it, and publishes it only if it holds `digest`.
Status copy_verified(const std::filesystem::path& source, const crypto::Digest& digest,
                     const std::filesystem::path& destination, bool hashed) {
  // The open fd pins the inode: a concurrent rename() over `source` (another
  // build publishing the same blob) cannot make the copy fail half-way.
  DISTILL_CHECK(util::check_interrupted());
  DISTILL_TRY(util::Fd in, open_for_reading(source));
  DISTILL_TRY(util::AtomicFile out, util::AtomicFile::create(destination, 0644));
  bool cloned = ::ioctl(out.fd(), FICLONE, in.get()) == 0;
  if (hashed) {
    if (!cloned) {
      DISTILL_CHECK(util::copy_rest(in.get(), out.fd(), source, out.temp_path()));
    }
    return out.commit();
  }
  crypto::Sha256 hasher;
  std::vector<char> buffer(k_buffer_size);
  for (;;) {
    DISTILL_CHECK(util::check_interrupted());  // the AtomicFile goes on the way out
    DISTILL_TRY(size_t n, read_some(in.get(), buffer.data(), buffer.size(), source));
    if (n == 0) {
      break;
    }
    hasher.update(buffer.data(), n);
    if (!cloned) {
      DISTILL_CHECK(out.write(buffer.data(), n));
    }
  }
  crypto::Digest got = hasher.finish();
  if (got != digest) {
    return make_error(ErrorKind::Corrupt, source.string() +
                                              ": content does not match its digest (expected " +
                                              digest.str() + ", got " + got.str() + ")");
  }
  return out.commit();
}

}  // namespace

Result<FileDigest> digest_file(const std::filesystem::path& path) {
  DISTILL_TRY(util::Fd in, open_for_reading(path));
  crypto::Sha256 hasher;
  FileDigest result;
  std::vector<char> buffer(k_buffer_size);
  for (;;) {
    DISTILL_TRY(size_t n, read_some(in.get(), buffer.data(), buffer.size(), path));
    if (n == 0) {
      break;
    }
    hasher.update(buffer.data(), n);
    result.size += n;
  }
  result.digest = hasher.finish();
  return result;
}

Result<BlobStore> BlobStore::open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "sha256", ec);
  if (ec) {
    return make_error(ErrorKind::Io, (dir / "sha256").string() + ": " + ec.message());
  }
  return BlobStore(dir);
}

Result<BlobStore> BlobStore::open_private(const std::filesystem::path& dir) {
  DISTILL_TRY(BlobStore store, open(dir));
  store.m_private = true;
  return store;
}

std::filesystem::path BlobStore::path_for(const crypto::Digest& digest) const {
  return m_dir / "sha256" / digest.hex();
}

bool BlobStore::contains(const crypto::Digest& digest, std::optional<uint64_t> size) const {
  struct stat st {};
  return ::stat(path_for(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         (!size || static_cast<uint64_t>(st.st_size) == *size);
}

Result<Descriptor> BlobStore::put(std::string_view data, std::string media_type) {
  Descriptor descriptor = describe(data, std::move(media_type));
  if (!contains(descriptor.digest, data.size())) {
    DISTILL_CHECK(m_private ? util::write_new_file(path_for(descriptor.digest), data)
                            : util::write_file_atomic(path_for(descriptor.digest), data));
  }
  return descriptor;
}

Status BlobStore::put_file(const crypto::Digest& digest, const std::filesystem::path& source,
                           bool hashed) {
  if (digest.empty()) {
    return make_error(ErrorKind::Internal, source.string() + ": blob without a digest");
  }
  struct stat source_stat {};
  if (::stat(source.c_str(), &source_stat) == 0 &&
      contains(digest, static_cast<uint64_t>(source_stat.st_size))) {
    return {};
  }
  // A writer of the same blob that finishes first is harmless: the rename of
  // identical bytes over it publishes the same content.
  return copy_verified(source, digest, path_for(digest), hashed);
}

}  // namespace distill::oci
