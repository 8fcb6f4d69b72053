// Streaming tar reader on libarchive (ustar/pax/GNU, compressed or not); turns
// libarchive entries into normalised TarEntry values (see tar_reader.hpp).
#include "archive/tar_reader.hpp"

#include <archive_entry.h>
#include <fcntl.h>
#include <lzma.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "archive/decompress.hpp"
#include "archive/libarchive_handle.hpp"
#include "archive/xz_error.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::archive {

namespace {

class ArchiveContentReader final : public ContentReader {
 public:
  ArchiveContentReader(struct archive* a, const std::string& origin, const std::string& path)
      : m_archive(a), m_origin(origin), m_path(path) {}
  Result<size_t> read(void* buffer, size_t size) override {
    la_ssize_t n = archive_read_data(m_archive, buffer, size);
    if (n < 0) {
      return make_error(ErrorKind::Corrupt,
                        m_origin + ": " + m_path + ": " + detail::archive_error(m_archive));
    }
    return static_cast<size_t>(n);
  }

 private:
  struct archive* m_archive;
  const std::string& m_origin;
  const std::string& m_path;
};

// True for "/", ".", "./", "//." and similar: the archive root.
bool is_root(std::string_view raw) {
  for (char c : raw) {
    if (c != '/' && c != '.') {
      return false;
    }
  }
  // Only slashes and dots: the root unless some component is "..".
  return raw.find("..") == std::string_view::npos;
}

const char* entry_pathname(struct archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  return name != nullptr ? name : archive_entry_pathname_utf8(entry);
}

Status read_entries(struct archive* a, const TarEntryCallback& fn, const std::string& origin) {
  struct archive_entry* raw = nullptr;
  TarEntry entry;
  for (;;) {
    int r = archive_read_next_header(a, &raw);
    if (r == ARCHIVE_EOF) {
      return {};
    }
    if (r < ARCHIVE_WARN) {
      return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a));
    }
    const char* name = entry_pathname(raw);
    if (name == nullptr) {
      return make_error(ErrorKind::Corrupt, origin + ": entry without a path");
    }
    std::string_view raw_path(name);
    if (is_root(raw_path)) {
      continue;
    }
    DISTILL_TRY(entry.path, normalize_path(raw_path, origin));

    entry.link_target.clear();
    entry.size = 0;
    entry.dev_major = 0;
    entry.dev_minor = 0;
    const char* hardlink = archive_entry_hardlink(raw);
    if (hardlink != nullptr) {
      entry.type = EntryType::Hardlink;
      DISTILL_TRY(entry.link_target, normalize_path(hardlink, origin));
    } else {
      switch (archive_entry_filetype(raw)) {
        case AE_IFREG:
          entry.type = EntryType::File;
          break;
        case AE_IFDIR:
          entry.type = EntryType::Directory;
          break;
        case AE_IFLNK: {
          entry.type = EntryType::Symlink;
          const char* target = archive_entry_symlink(raw);
          if (target == nullptr) {
            target = archive_entry_symlink_utf8(raw);
          }
          if (target == nullptr || *target == '\0') {
            return make_error(ErrorKind::Corrupt,
                              origin + ": " + entry.path + ": symlink without a target");
          }
          entry.link_target = target;
          break;
        }
        case AE_IFCHR:
          entry.type = EntryType::CharDevice;
          break;
        case AE_IFBLK:
          entry.type = EntryType::BlockDevice;
          break;
        case AE_IFIFO:
          entry.type = EntryType::Fifo;
          break;
        default:
          return make_error(ErrorKind::Unsupported,
                            origin + ": " + entry.path + ": unsupported tar entry type");
      }
    }
    if (entry.type == EntryType::File) {
      la_int64_t size = archive_entry_size(raw);
      if (size < 0) {
        return make_error(ErrorKind::Corrupt, origin + ": " + entry.path + ": negative size");
      }
      entry.size = static_cast<uint64_t>(size);
    }
    if (entry.type == EntryType::CharDevice || entry.type == EntryType::BlockDevice) {
      entry.dev_major = static_cast<uint32_t>(archive_entry_rdevmajor(raw));
      entry.dev_minor = static_cast<uint32_t>(archive_entry_rdevminor(raw));
    }
    entry.mode = static_cast<uint32_t>(archive_entry_perm(raw)) & 07777;
    la_int64_t uid = archive_entry_uid(raw);
    la_int64_t gid = archive_entry_gid(raw);
    if (uid < 0 || gid < 0 || uid > UINT32_MAX || gid > UINT32_MAX) {
      return make_error(ErrorKind::Corrupt, origin + ": " + entry.path + ": uid/gid out of range");
    }
    entry.uid = static_cast<uint32_t>(uid);
    entry.gid = static_cast<uint32_t>(gid);
    const char* uname = archive_entry_uname(raw);
    const char* gname = archive_entry_gname(raw);
    entry.uname = uname != nullptr ? uname : "";
    entry.gname = gname != nullptr ? gname : "";
    entry.mtime = archive_entry_mtime(raw);

    ArchiveContentReader content(a, origin, entry.path);
    MemoryContentReader empty({});
    ContentReader& reader = entry.type == EntryType::File ? static_cast<ContentReader&>(content)
                                                          : static_cast<ContentReader&>(empty);
    DISTILL_CHECK(fn(entry, reader));
  }
}

// Gives back to the kernel the pages of a file mapping below `upto` (and from
// the first whole page of `data`): advice only, a failure leaves them resident.
void release_behind(std::string_view data, const void* upto, uintptr_t& freed) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<uintptr_t>(data.data());
  uintptr_t done = reinterpret_cast<uintptr_t>(upto) & ~(page - 1);
  uintptr_t from = std::max(freed, (base + page - 1) & ~(page - 1));
  if (done > from) {
    (void)::madvise(reinterpret_cast<void*>(from), done - from, MADV_DONTNEED);
    freed = done;
  }
}

// Bytes of a file mapping handed to libarchive a block at a time; the pages
// of blocks libarchive is done with (it holds a block only until it asks for
// the next) are given back with MADV_DONTNEED.
struct MappedSource {
  std::string_view data;
  size_t next = 0;      // offset of the next block
  uintptr_t freed = 0;  // address up to which pages were given back
};

constexpr size_t k_mapped_block = 1U << 20;

la_ssize_t read_mapped(struct archive* /*a*/, void* context, const void** buffer) {
  auto* source = static_cast<MappedSource*>(context);
  release_behind(source->data, source->data.data() + source->next, source->freed);
  size_t n = std::min(k_mapped_block, source->data.size() - source->next);
  *buffer = source->data.data() + source->next;
  source->next += n;
  return static_cast<la_ssize_t>(n);
}

// An .xz tar held in memory, decoded by liblzma's multithreaded decoder and
// handed to libarchive as a plain tar. xz files made by dpkg-deb with threads
// (bookworm's big packages: openjdk's data.tar.xz has 8 blocks) then decode
// on several cores instead of one; a single-block file decodes as before, on
// the decoder's own thread, overlapping with the tar reading and compression.
struct XzSource {
  std::string_view data;
  bool mapped = false;
  uintptr_t freed = 0;
  lzma_stream stream = LZMA_STREAM_INIT;
  std::vector<uint8_t> out = std::vector<uint8_t>(k_mapped_block);
  bool done = false;

  XzSource() = default;
  XzSource(const XzSource&) = delete;
  XzSource& operator=(const XzSource&) = delete;
  ~XzSource() { lzma_end(&stream); }
};

// Decoder threads: the machine's cores, at most 4; the memory the threads may
// use together is capped so that peak RSS stays bounded (liblzma decodes with
// fewer threads, or in one, when blocks would not fit). dpkg-deb's blocks are
// 24 MiB; 48 MiB lets two run at once: a warm java17 build went from 7.4 s to
// 4.6 s wall here (2 cores) for 46 MB more peak RSS.
constexpr uint64_t k_xz_thread_memory = 48ULL << 20;

bool start_xz(XzSource& source) {
  lzma_mt options{};
  options.threads = std::clamp(std::thread::hardware_concurrency(), 1U, 4U);
  options.memlimit_threading = k_xz_thread_memory;
  options.memlimit_stop = UINT64_MAX;
  options.flags = 0;
  if (lzma_stream_decoder_mt(&source.stream, &options) != LZMA_OK) {
    return false;
  }
  source.stream.next_in = reinterpret_cast<const uint8_t*>(source.data.data());
  source.stream.avail_in = source.data.size();
  return true;
}

la_ssize_t read_xz(struct archive* a, void* context, const void** buffer) {
  auto* source = static_cast<XzSource*>(context);
  if (source->done) {
    return 0;
  }
  lzma_stream& stream = source->stream;
  stream.next_out = source->out.data();
  stream.avail_out = source->out.size();
  while (stream.avail_out > 0) {
    lzma_ret r = lzma_code(&stream, LZMA_FINISH);  // all the input is there already
    if (r == LZMA_STREAM_END) {
      source->done = true;
      break;
    }
    if (r != LZMA_OK) {
      archive_set_error(a, EIO, "%s", detail::xz_message(r).c_str());
      return -1;
    }
  }
  if (source->mapped) {
    release_behind(source->data, stream.next_in, source->freed);
  }
  *buffer = source->out.data();
  return static_cast<la_ssize_t>(source->out.size() - stream.avail_out);
}

}  // namespace

Status for_each_tar_entry(std::string_view data, const TarEntryCallback& fn,
                          const std::string& origin, bool mapped) {
  detail::ArchiveReadPtr a = detail::new_reader(true);
  if (!a) {
    return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
  }
  MappedSource plain{data};
  XzSource xz;
  int opened = ARCHIVE_FATAL;
  if (detect_codec(data) == Codec::Xz) {
    xz.data = data;
    xz.mapped = mapped;
    if (!start_xz(xz)) {
      return make_error(ErrorKind::Internal, origin + ": cannot start the xz decoder");
    }
    opened = archive_read_open(a.get(), &xz, nullptr, read_xz, nullptr);
  } else if (mapped) {
    opened = archive_read_open(a.get(), &plain, nullptr, read_mapped, nullptr);
  } else {
    opened = archive_read_open_memory(a.get(), data.data(), data.size());
  }
  if (opened != ARCHIVE_OK) {
    return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a.get()));
  }
  return read_entries(a.get(), fn, origin);
}

Status for_each_tar_entry(const std::filesystem::path& file, const TarEntryCallback& fn,
                          const std::string& origin, bool zip) {
  util::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return util::errno_error(file, errno);
  }
  detail::ArchiveReadPtr a = detail::new_reader(true, zip);
  if (!a) {
    return make_error(ErrorKind::Internal, origin + ": cannot create a libarchive reader");
  }
  if (archive_read_open_fd(a.get(), fd.get(), 256 * 1024) != ARCHIVE_OK) {
    return make_error(ErrorKind::Corrupt, origin + ": " + detail::archive_error(a.get()));
  }
  return read_entries(a.get(), fn, origin);
}

}  // namespace distill::archive
