#include "util/interrupt_cleanup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

#include "util/fd.hpp"
#include "util/mount_table.hpp"

namespace distill::util {

namespace {

constexpr int k_signals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr size_t k_slots = 256;
constexpr int k_max_depth = 48;

enum SlotState : int { k_free = 0, k_filling = 1, k_file = 2, k_directory = 3, k_mount = 4 };

// Initialised as constants (the path too), so the 1 MiB table costs nothing
// at start-up: left uninitialised, `path` made it a dynamic initialisation
// that touched each slot's page before main() (256 page faults).
struct Slot {
  std::atomic<int> state{k_free};
  char path[PATH_MAX]{};
};

constinit std::array<Slot, k_slots> g_slots;
std::atomic<bool> g_installed{false};

bool is_dot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// Removes `name` in directory `parent` (a file, or a tree) and says whether
// it is gone: removed here, or by somebody else meanwhile. A directory below
// the top one whose filesystem is not `device` (the top's) is a mount point:
// it is left as it is, never emptied through the mount. Signal-safe.
bool remove_at(int parent, const char* name, int depth, dev_t device) {
  if (::unlinkat(parent, name, 0) == 0 || errno == ENOENT) {
    return true;
  }
  if ((errno != EISDIR && errno != EPERM) || depth >= k_max_depth) {
    return false;
  }
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (depth > 0 && st.st_dev != device)) {
    ::close(fd);
    return false;
  }
  ::fchmod(fd, 0700);  // a read-only directory of an unpacked image
  alignas(8) char buffer[4096];
  // Entries are removed while listing, which may skip some: list again until
  // a pass finds none, or removes none of those it finds (they stay: a mount
  // point, an entry deeper than k_max_depth), so every pass makes progress.
  for (bool again = true; again;) {
    bool listed = false;
    bool progress = false;
    ::lseek(fd, 0, SEEK_SET);
    for (;;) {
      long n = ::syscall(SYS_getdents64, fd, buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      for (long offset = 0; offset < n;) {
        // glibc's dirent64 has the layout of the kernel's getdents64 record.
        auto* entry = reinterpret_cast<struct dirent64*>(buffer + offset);
        offset += entry->d_reclen;
        if (!is_dot(entry->d_name)) {
          listed = true;
          progress = remove_at(fd, entry->d_name, depth + 1, st.st_dev) || progress;
        }
      }
    }
    again = listed && progress;
  }
  ::close(fd);
  return ::unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT;
}

void on_interrupt(int signo) {
  remove_registered_signal_safe();
  // SA_RESETHAND restored the default action; the signal, blocked while this
  // handler runs, ends the process as soon as it returns.
  (void)::raise(signo);
}

}  // namespace

bool remove_tree_signal_safe(const char* path) { return remove_at(AT_FDCWD, path, 0, 0); }

void remove_registered_signal_safe() {
  int saved = errno;
  // Mounts first: they may lie inside a registered directory, whose walk
  // stops at them.
  for (Slot& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) == k_mount) {
      ::umount2(slot.path, MNT_DETACH | UMOUNT_NOFOLLOW);
    }
  }
  for (Slot& slot : g_slots) {
    int state = slot.state.load(std::memory_order_acquire);
    if (state == k_file) {
      ::unlink(slot.path);
    } else if (state == k_directory) {
      remove_tree_signal_safe(slot.path);
    }
  }
  errno = saved;
}

void install_interrupt_cleanup() {
  if (g_installed.exchange(true)) {
    return;
  }
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  for (int signo : k_signals) {
    sigaddset(&action.sa_mask, signo);
  }
  action.sa_flags = SA_RESETHAND;
  for (int signo : k_signals) {
    struct sigaction old {};
    ::sigaction(signo, nullptr, &old);
    if (old.sa_handler == SIG_IGN) {
      continue;  // started with the signal ignored (nohup): keep it so
    }
    ::sigaction(signo, &action, nullptr);
  }
}

CleanupRegistration::CleanupRegistration(const std::filesystem::path& path, CleanupKind kind) {
  std::string absolute =
      path.is_absolute() ? path.string() : (std::filesystem::current_path() / path).string();
  if (absolute.size() >= PATH_MAX) {
    return;
  }
  for (size_t i = 0; i < k_slots; ++i) {
    int expected = k_free;
    if (g_slots[i].state.compare_exchange_strong(expected, k_filling, std::memory_order_acq_rel)) {
      std::memcpy(g_slots[i].path, absolute.c_str(), absolute.size() + 1);
      const int state = kind == CleanupKind::File        ? k_file
                        : kind == CleanupKind::Directory ? k_directory
                                                         : k_mount;
      g_slots[i].state.store(state, std::memory_order_release);
      m_slot = static_cast<int>(i);
      return;
    }
  }
}

CleanupRegistration& CleanupRegistration::operator=(CleanupRegistration&& other) noexcept {
  if (this != &other) {
    release();
    m_slot = other.m_slot;
    other.m_slot = -1;
  }
  return *this;
}

void CleanupRegistration::release() {
  if (m_slot >= 0) {
    g_slots[static_cast<size_t>(m_slot)].state.store(k_free, std::memory_order_release);
    m_slot = -1;
  }
}

bool lock_as_owner(int fd, const std::filesystem::path& path) {
  // Blocking: only a sweep can hold a lock on a name this process just made,
  // and it holds it only while it removes the entry.
  while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  struct stat held {};
  struct stat named {};
  return ::fstat(fd, &held) == 0 && held.st_nlink > 0 && ::lstat(path.c_str(), &named) == 0 &&
         held.st_ino == named.st_ino && held.st_dev == named.st_dev;
}

bool try_again_after_sweep(int attempt) {
  constexpr int k_attempts = 100;
  if (attempt + 1 >= k_attempts) {
    return false;
  }
  std::this_thread::yield();
  return true;
}

namespace {

size_t sweep(const std::filesystem::path& dir, std::string_view prefix, std::string_view marker,
             bool below) {
  size_t removed = 0;
  // Never throws: a sweep runs on a pool thread, where a throw ends the process.
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::filesystem::directory_entry& entry = *it;
    std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0 ||
        (!marker.empty() && name.find(marker) == std::string::npos)) {
      std::error_code type_ec;
      if (below && entry.is_directory(type_ec) && !entry.is_symlink(type_ec)) {
        removed += sweep(entry.path(), prefix, marker, true);
      }
      continue;
    }
    Fd fd(::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
      continue;
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      continue;  // its owner is alive
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      detach_mounts_below(entry.path());
      remove_tree_signal_safe(entry.path().c_str());
    } else {
      ::unlink(entry.path().c_str());
    }
    ++removed;
  }
  return removed;
}

}  // namespace

size_t sweep_abandoned(const std::filesystem::path& dir, std::string_view prefix,
                       std::string_view marker) {
  return sweep(dir, prefix, marker, false);
}

size_t sweep_abandoned_below(const std::filesystem::path& dir, std::string_view prefix,
                             std::string_view marker) {
  return sweep(dir, prefix, marker, true);
}

}  // namespace distill::util
