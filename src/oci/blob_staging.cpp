#include "oci/blob_staging.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>

#include "util/atomic_file.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/interrupt_cleanup.hpp"

namespace distill::oci {

namespace {

// Copies `file` to `destination` whole (an AtomicFile): false on any failure.
bool copy_whole(const std::filesystem::path& file, const std::filesystem::path& destination) {
  util::Fd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) {
    return false;
  }
  auto out = util::AtomicFile::create(destination, 0644);
  return out.ok() && util::copy_rest(in.get(), out->fd(), file, out->temp_path()).ok() &&
         out->commit().ok();
}

// Where a staging for `layout` lives: its parent directory and the name
// prefix of the staging directory; nullopt for a layout that has no parent
// directory (yet) or no name of its own (".", "/").
struct Place {
  std::filesystem::path parent;
  std::string name;
  std::string prefix;
};
std::optional<Place> place_of(const std::filesystem::path& layout) {
  std::filesystem::path normal = layout.lexically_normal();
  if (!normal.has_filename()) {
    normal = normal.parent_path();  // "out/" names the directory "out"
  }
  const std::string name = normal.filename().string();
  std::filesystem::path parent = normal.parent_path();
  if (parent.empty()) {
    parent = ".";
  }
  struct stat st {};
  if (name.empty() || name == "." || name == ".." || ::stat(parent.c_str(), &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return std::nullopt;
  }
  return Place{parent, name, "." + name + ".blobs.tmp."};
}

}  // namespace

void sweep_abandoned_staging(const std::filesystem::path& layout) {
  if (auto place = place_of(layout)) {
    util::sweep_abandoned(place->parent, place->prefix);
  }
}

std::unique_ptr<BlobStaging> BlobStaging::open(const std::filesystem::path& layout) {
  auto place = place_of(layout);
  if (!place) {
    return nullptr;
  }
  util::sweep_abandoned(place->parent, place->prefix);  // what a killed build left
  auto dir = util::TempDir::create(place->prefix, place->parent);
  if (!dir.ok()) {
    return nullptr;
  }
  std::unique_ptr<BlobStaging> staging(
      new BlobStaging(place->parent / place->name, std::move(dir).value()));
  // A layout that does not exist yet is assembled in the staging directory
  // itself, which becomes the layout. Its directories are made as the layout
  // writer makes them (mkdir 0777: the umask, or a default ACL, decides), and
  // the staging directory takes their mode when it is published.
  struct stat st {};
  if (::lstat(staging->m_layout.c_str(), &st) != 0 && errno == ENOENT) {
    const std::filesystem::path blobs = staging->dir() / "blobs";
    staging->m_new_layout = ::mkdir(blobs.c_str(), 0777) == 0 &&
                            ::mkdir((blobs / "sha256").c_str(), 0777) == 0 &&
                            ::stat(blobs.c_str(), &st) == 0;
    staging->m_layout_mode = st.st_mode & 07777;
  }
  return staging;
}

std::filesystem::path BlobStaging::copy_of(const crypto::Digest& digest, const Blob& blob) const {
  return blob.in_new_layout ? dir() / "blobs" / "sha256" / digest.hex() : dir() / digest.hex();
}

std::optional<std::filesystem::path> BlobStaging::new_layout() const {
  std::lock_guard lock(m_mutex);
  if (!m_new_layout) {
    return std::nullopt;
  }
  return dir();
}

void BlobStaging::abandon_new_layout() {
  std::lock_guard lock(m_mutex);
  m_new_layout = false;
}

bool BlobStaging::publish_layout() {
  std::lock_guard lock(m_mutex);
  if (!m_new_layout) {
    return false;
  }
  m_new_layout = false;  // whatever happens: published, or written in place
  for (const auto& [digest, blob] : m_blobs) {
    if (blob.in_new_layout && blob.state == State::Copying) {
      return false;  // a copy in flight would be carried along half-written
    }
  }
  if (::chmod(dir().c_str(), m_layout_mode) != 0 ||
      ::renameat2(AT_FDCWD, dir().c_str(), AT_FDCWD, m_layout.c_str(), RENAME_NOREPLACE) != 0) {
    return false;
  }
  // The directory is the layout now: kept, and its lock let go. Nothing is
  // staged any more.
  m_dir.release();
  m_blobs.clear();
  return true;
}

void BlobStaging::stage(const crypto::Digest& digest, const std::filesystem::path& file) {
  Blob blob;
  {
    std::lock_guard lock(m_mutex);
    if (dir().empty() || m_blobs.count(digest) != 0) {  // published, or staged already
      return;
    }
    blob = m_blobs[digest] = Blob{State::Copying, m_new_layout};
  }
  // A new layout holds nothing yet; an existing one may hold the blob.
  struct stat st {};
  const bool present = !blob.in_new_layout &&
                       ::stat((m_layout / "blobs" / "sha256" / digest.hex()).c_str(), &st) == 0;
  const bool copied = !present && copy_whole(file, copy_of(digest, blob));
  std::lock_guard lock(m_mutex);
  m_blobs[digest].state = copied ? State::Staged : State::Failed;
}

bool BlobStaging::publish(const crypto::Digest& digest, const std::filesystem::path& destination) {
  std::lock_guard lock(m_mutex);
  auto it = m_blobs.find(digest);
  if (it == m_blobs.end() || it->second.state != State::Staged) {
    return false;
  }
  if (std::rename(copy_of(digest, it->second).c_str(), destination.c_str()) != 0) {
    return false;
  }
  m_blobs.erase(it);
  return true;
}

}  // namespace distill::oci
