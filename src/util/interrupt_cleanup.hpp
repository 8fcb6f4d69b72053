// Interrupt cleanup: temporary files and directories that must not outlive
// the process when it is stopped by SIGINT, SIGTERM or SIGHUP.
//
// install_interrupt_cleanup() (once, from main) sets a handler for those
// signals that removes every registered path with async-signal-safe calls
// only (unlink, openat, getdents64, unlinkat), then lets the signal end the
// process as it would have (exit status 128+N). AtomicFile, TempDir and the
// download cache's temp files register themselves while they exist, and so
// does a mount made inside a temporary directory (`distill test`'s overlay):
// the handler detaches registered mounts before it removes any tree, and no
// tree is ever walked into another filesystem, so what is mounted inside a
// temporary is neither left mounted nor emptied through its mount point.
//
// What a SIGKILL or a crash leaves is found later by sweep_abandoned(): every
// registered temporary is also held under an flock(2) by its owner for as long
// as it lives, so a temporary nobody holds locked has no owner left.
#pragma once

#include <filesystem>
#include <string_view>

namespace distill::util {

void install_interrupt_cleanup();

// What a registered path is, and so what the handler does with it: unlink a
// file, remove a directory tree, or detach a mount point (umount2 with
// MNT_DETACH), which it does first.
enum class CleanupKind { File, Directory, Mount };

// A registration, undone on destruction (or by release()). Registering fails
// quietly when every slot is taken: the path is then left to the sweep.
class CleanupRegistration {
 public:
  CleanupRegistration() = default;
  CleanupRegistration(const std::filesystem::path& path, CleanupKind kind);
  CleanupRegistration(CleanupRegistration&& other) noexcept : m_slot(other.m_slot) {
    other.m_slot = -1;
  }
  CleanupRegistration& operator=(CleanupRegistration&& other) noexcept;
  CleanupRegistration(const CleanupRegistration&) = delete;
  CleanupRegistration& operator=(const CleanupRegistration&) = delete;
  ~CleanupRegistration() { release(); }
  void release();

 private:
  int m_slot = -1;
};

// Removes every registered path now, with async-signal-safe calls only (what
// the handler does; util/interrupt.hpp's handler calls it before exiting).
void remove_registered_signal_safe();

// Removes a directory tree (or a file) using only async-signal-safe calls and
// says whether it is gone. Entries that vanish meanwhile are taken as removed;
// what cannot be removed is left (a mount point, which is never walked into: a
// directory on another filesystem than `path`'s; a tree deeper than 48
// levels), and the walk still ends.
bool remove_tree_signal_safe(const char* path);

// Removes the entries of `dir` whose name starts with `prefix` and contains
// `marker` and that no process holds an flock on: temporaries whose owner died.
// A mount left inside one (its owner killed while `distill test` had its
// overlay mounted) is detached first, where this process may. Returns how
// many were removed.
size_t sweep_abandoned(const std::filesystem::path& dir, std::string_view prefix,
                       std::string_view marker = {});
// The same in `dir` and in every subdirectory below it whose name does not
// match (reached through directories, never through a link).
size_t sweep_abandoned_below(const std::filesystem::path& dir, std::string_view prefix,
                             std::string_view marker = {});

// Takes an exclusive flock on `fd`, just created at `path`. A sweep in another
// process may have opened and locked it first (between the creation and this
// call): the lock then waits for that sweep, and the answer is false when the
// sweep removed it, so the caller creates another one.
bool lock_as_owner(int fd, const std::filesystem::path& path);

// After lock_as_owner() failed on attempt number `attempt` (from 0): lets the
// sweep finish its pass and says whether to create another temporary. Up to
// a hundred are made: losing is likely only to a sweep that runs without
// pause while the creator's CPU is taken, and a test doing exactly that, with
// busy loops beside it, lost nine in a row within a few thousand creations
// when nine was the limit.
bool try_again_after_sweep(int attempt);

}  // namespace distill::util
