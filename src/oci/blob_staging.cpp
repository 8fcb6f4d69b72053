#include "oci/blob_staging.hpp"

#include <fcntl.h>
#include <sys/stat.h>

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
  return Place{parent, "." + name + ".blobs.tmp."};
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
  return std::unique_ptr<BlobStaging>(new BlobStaging(layout, std::move(dir).value()));
}

void BlobStaging::stage(const crypto::Digest& digest, const std::filesystem::path& file) {
  {
    std::lock_guard lock(m_mutex);
    if (m_blobs.count(digest) != 0) {
      return;
    }
    m_blobs[digest] = State::Copying;
  }
  struct stat st {};
  const bool present = ::stat((m_layout / "blobs" / "sha256" / digest.hex()).c_str(), &st) == 0;
  const bool copied = !present && copy_whole(file, dir() / digest.hex());
  std::lock_guard lock(m_mutex);
  m_blobs[digest] = copied ? State::Staged : State::Failed;
}

bool BlobStaging::publish(const crypto::Digest& digest, const std::filesystem::path& destination) {
  std::lock_guard lock(m_mutex);
  auto it = m_blobs.find(digest);
  if (it == m_blobs.end() || it->second != State::Staged) {
    return false;
  }
  if (std::rename((dir() / digest.hex()).c_str(), destination.c_str()) != 0) {
    return false;
  }
  m_blobs.erase(it);
  return true;
}

}  // namespace distill::oci
