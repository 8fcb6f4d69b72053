// BlobStaging: copies of a build's new layer blobs made next to an OCI layout
// while the build still runs, so that writing the layout at the end moves
// each one in with a rename instead of copying every blob then, when all but
// one CPU would be idle (a warm base build spent 3 ms of its 0.26 s there).
//
// The copies live in a temporary directory beside the layout, in its parent:
// `.<layout name>.blobs.tmp.XXXXXX`. Nothing in the layout changes before it
// is written, and a build that fails or is stopped leaves nothing behind
// (util::TempDir; what a killed one left is swept by the next open() for
// that layout, or the next write of it with nothing staged).
// Staging is only ever a head start: a blob that could not be staged, or moved
// in, is copied by the layout writer as before (oci/layout_writer.hpp).
//
// For a layout that does not exist yet, the staging directory is a whole new
// one, with its blobs/sha256 where the copies go: the writer adds the rest
// and renames the directory into place at once (publish_layout()), instead
// of making the directories, moving each blob in and writing each small file
// under the layout's lock, then removing the staging directory, once all but
// one CPU are idle (1.9 ms of the end of a warm base build, 0.4 ms of it the
// removed directory's inode freed as its last descriptor closed).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "crypto/sha256.hpp"
#include "util/temp_dir.hpp"

namespace distill::oci {

// Removes what a killed build staged for `layout` (staging directories nobody
// holds): BlobStaging::open() does, and the layout writer when nothing was
// staged for the layout.
void sweep_abandoned_staging(const std::filesystem::path& layout);

class BlobStaging {
 public:
  // Staging for the layout directory `layout` (which need not exist yet);
  // null when its parent directory does not exist or takes no temporary
  // directory.
  static std::unique_ptr<BlobStaging> open(const std::filesystem::path& layout);

  BlobStaging(const BlobStaging&) = delete;
  BlobStaging& operator=(const BlobStaging&) = delete;
  ~BlobStaging() = default;

  // Copies `file`, a blob this process made and hashed on the way (a layer
  // just written to the cache), as `digest`: not again when it is staged
  // already or the layout holds it. Safe to call from several threads. A copy
  // that fails is dropped, leaving the blob to the layout writer.
  void stage(const crypto::Digest& digest, const std::filesystem::path& file);

  // Moves the staged copy of `digest` to `destination` (the layout's
  // blobs/sha256/<hex>); false when none is staged or it could not be moved
  // there (another filesystem), so that the caller copies the blob.
  bool publish(const crypto::Digest& digest, const std::filesystem::path& destination);

  // The new layout being assembled here (see above): dir(), or nullopt when
  // the layout existed when staging began, or the new one was published.
  [[nodiscard]] std::optional<std::filesystem::path> new_layout() const;

  // Renames the new layout, completed by the caller, to the layout's path,
  // which must still not exist (RENAME_NOREPLACE), with the mode its own
  // directories got; false when it cannot be: the path was taken meanwhile,
  // the filesystem has no such rename, or a copy into it is still being
  // made. The staged copies then stay where they are, for publish(), and the
  // layout is written in place from then on (new_layout() is nullopt). Once
  // published, the directory is no longer this staging's (dir() is empty)
  // and nothing more is staged.
  bool publish_layout();

  // Gives up the new layout (its completion failed): the layout is written in
  // place, the staged copies moved in by publish().
  void abandon_new_layout();

  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir.path(); }

 private:
  BlobStaging(std::filesystem::path layout, util::TempDir dir)
      : m_layout(std::move(layout)), m_dir(std::move(dir)) {}

  enum class State { Copying, Staged, Failed };
  struct Blob {
    State state = State::Copying;
    bool in_new_layout = false;  // copied into new_layout()'s blobs, not dir()
  };
  [[nodiscard]] std::filesystem::path copy_of(const crypto::Digest& digest, const Blob& blob) const;

  std::filesystem::path m_layout;
  util::TempDir m_dir;
  mutable std::mutex m_mutex;
  bool m_new_layout = false;  // dir() is a new layout, not yet published
  mode_t m_layout_mode = 0;   // what mkdir() gave dir()'s blobs/
  std::map<crypto::Digest, Blob> m_blobs;
};

}  // namespace distill::oci
