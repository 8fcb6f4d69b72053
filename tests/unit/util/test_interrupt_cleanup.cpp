// Interrupt cleanup (issue 11, item 9): temporaries go with a process stopped
// by SIGINT/SIGTERM, and what a SIGKILL leaves is swept as abandoned, while a
// live owner's temporaries are kept.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <thread>

#include "util/atomic_file.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/interrupt_cleanup.hpp"
#include "util/mount_table.hpp"
#include "util/temp_dir.hpp"

namespace distill::util {
namespace {

namespace fs = std::filesystem;

// A scratch directory that is not itself registered (a forked child inherits
// the parent's registrations, and its handler would remove a TempDir of ours).
struct Scratch {
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "distill-interrupt-XXXXXX").string();
    path = ::mkdtemp(pattern.data()) != nullptr ? fs::path(pattern) : fs::path();
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

size_t count_entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

// In a forked child: the cleanup handler on the signals the test stops it
// with. Started with them ignored (under nohup, or as a script's background
// job, which ignores SIGINT), the child would keep them ignored, as the
// cleanup leaves an ignored signal be, and never stop.
void install_cleanup_in_child() {
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) {
    (void)::signal(signo, SIG_DFL);
  }
  install_interrupt_cleanup();
}

// A child that makes an AtomicFile and a TempDir (with a read-only subtree)
// in `dir`, says so on `ready`, then waits to be stopped by `signo`.
pid_t start_child(const fs::path& dir, int ready) {
  pid_t pid = ::fork();
  if (pid != 0) {
    return pid;
  }
  install_cleanup_in_child();
  auto file = AtomicFile::create(dir / "out.tar");
  auto temp = TempDir::create("distill-run-", dir);
  if (!file.ok() || !temp.ok() || !file->write("partial").ok()) {
    ::_exit(3);
  }
  fs::create_directories(temp->path() / "rootfs/usr/bin");
  (void)write_file_atomic(temp->path() / "rootfs/usr/bin/x", "x");
  ::chmod((temp->path() / "rootfs/usr/bin").c_str(), 0555);
  ::chmod((temp->path() / "rootfs/usr").c_str(), 0555);
  char byte = 1;
  (void)::write(ready, &byte, 1);
  for (;;) {
    ::pause();
  }
}

class InterruptCleanup : public ::testing::TestWithParam<int> {};

TEST_P(InterruptCleanup, TemporariesGoWithTheProcess) {
  int signo = GetParam();
  Scratch scratch;
  ASSERT_FALSE(scratch.path.empty());
  const Scratch* dir = &scratch;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = start_child(dir->path, fds[1]);
  ASSERT_GT(pid, 0);
  char byte = 0;
  ASSERT_EQ(::read(fds[0], &byte, 1), 1);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(count_entries(dir->path), 2U);  // the archive's temp and the run dir
  ASSERT_EQ(::kill(pid, signo), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;  // still ends by the signal (128+N)
  EXPECT_EQ(WTERMSIG(status), signo);
  EXPECT_EQ(count_entries(dir->path), 0U);
}

INSTANTIATE_TEST_SUITE_P(Signals, InterruptCleanup, ::testing::Values(SIGINT, SIGTERM, SIGHUP));

// SIGKILL cannot be caught: what it leaves has no lock held, and the sweep
// takes it; the temporaries of a live owner stay.
TEST(InterruptCleanupSweep, AbandonedTemporariesAreSweptLiveOnesKept) {
  Scratch scratch;
  ASSERT_FALSE(scratch.path.empty());
  const Scratch* dir = &scratch;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = start_child(dir->path, fds[1]);
  char byte = 0;
  ASSERT_EQ(::read(fds[0], &byte, 1), 1);
  ::close(fds[0]);
  ::close(fds[1]);
  // While the child lives, nothing of it is swept.
  EXPECT_EQ(sweep_abandoned(dir->path, ".", ".tmp."), 0U);
  EXPECT_EQ(sweep_abandoned(dir->path, "distill-run-"), 0U);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(count_entries(dir->path), 2U);

  auto mine = AtomicFile::create(dir->path / "mine");
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE(write_file_atomic(dir->path / "done", "x").ok());
  EXPECT_EQ(sweep_abandoned(dir->path, ".", ".tmp."), 1U);
  EXPECT_EQ(sweep_abandoned(dir->path, "distill-run-"), 1U);
  EXPECT_TRUE(fs::exists(mine->temp_path()));  // held by a live owner (us)
  EXPECT_TRUE(fs::exists(dir->path / "done"));
  EXPECT_EQ(count_entries(dir->path), 2U);
  ASSERT_TRUE(mine->commit().ok());
}

TEST(InterruptCleanupSweep, RemoveTreeTakesReadOnlyDirectories) {
  Scratch scratch;
  fs::path root = scratch.path / "root";
  fs::create_directories(root / "a/b/c");
  ASSERT_TRUE(write_file_atomic(root / "a/b/c/f", "x").ok());
  fs::create_symlink("/etc/passwd", root / "a/link");
  ::chmod((root / "a/b").c_str(), 0555);
  EXPECT_TRUE(remove_tree_signal_safe(root.c_str()));
  EXPECT_FALSE(fs::exists(root));
  EXPECT_TRUE(fs::exists("/etc/passwd"));
}

// An entry the walk cannot remove (here: below its depth limit) is listed
// again on every pass; the walk must end all the same, say that the tree
// stayed, and leave remove_tree() to take the rest.
TEST(InterruptCleanupSweep, RemoveTreeEndsAtWhatItCannotRemove) {
  Scratch scratch;
  fs::path root = scratch.path / "deep";
  fs::path leaf = root;
  for (int level = 0; level < 60; ++level) {
    leaf /= "d";
  }
  fs::create_directories(leaf);
  ASSERT_TRUE(write_file_atomic(leaf / "f", "x").ok());
  ASSERT_TRUE(write_file_atomic(root / "beside", "x").ok());
  EXPECT_FALSE(remove_tree_signal_safe(root.c_str()));
  EXPECT_TRUE(fs::exists(leaf / "f"));
  EXPECT_FALSE(fs::exists(root / "beside"));
  ASSERT_TRUE(remove_tree(root).ok());
  EXPECT_FALSE(fs::exists(root));
  EXPECT_TRUE(remove_tree(root).ok());  // already gone
  EXPECT_TRUE(remove_tree_signal_safe(root.c_str()));
}

// A sweep can open and lock a temporary between its creation and its owner's
// flock: the owner then waits for that sweep and learns that it lost the entry.
TEST(InterruptCleanupSweep, OwnerLosingTheRaceToASweepIsTold) {
  Scratch scratch;
  fs::path dir = scratch.path / "distill-run-race";
  ASSERT_TRUE(fs::create_directory(dir));
  Fd owner(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Fd sweeper(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_EQ(::flock(sweeper.get(), LOCK_EX | LOCK_NB), 0);
  auto locked = std::async(std::launch::async, [&] { return lock_as_owner(owner.get(), dir); });
  EXPECT_EQ(locked.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  remove_tree_signal_safe(dir.c_str());
  sweeper.reset();
  EXPECT_FALSE(locked.get());

  ASSERT_TRUE(fs::create_directory(dir));
  Fd again(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_TRUE(lock_as_owner(again.get(), dir));
  EXPECT_EQ(sweep_abandoned(scratch.path, "distill-run-"), 0U);  // held now
}

// Runs that start while another one sweeps never lose their bundle directory.
TEST(InterruptCleanupSweep, TemporariesMadeDuringSweepsSurvive) {
  Scratch scratch;
  std::atomic<bool> done{false};
  std::thread sweeping([&] {
    while (!done.load()) {
      sweep_abandoned(scratch.path, "distill-run-");
      sweep_abandoned(scratch.path, ".", ".tmp.");
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& thread;
    ~Join() {
      done.store(true);
      thread.join();
    }
  } join{done, sweeping};
  for (int i = 0; i < 300; ++i) {
    auto temp = TempDir::create("distill-run-", scratch.path);
    ASSERT_TRUE(temp.ok()) << temp.error().message;
    ASSERT_EQ(::chmod(temp->path().c_str(), 0711), 0) << temp->path();
    auto file = AtomicFile::create(scratch.path / "out");
    ASSERT_TRUE(file.ok()) << file.error().message;
    ASSERT_TRUE(file->write("x").ok());
    ASSERT_TRUE(file->commit().ok());
  }
}

// Mounts inside temporaries: `distill test`'s overlay lives inside its
// temporary directory. These need to mount a tmpfs (root), and skip otherwise.

bool mount_tmpfs(const fs::path& point) {
  return ::mount("tmpfs", point.c_str(), "tmpfs", 0, "size=1m") == 0;
}

bool mounted_below(const fs::path& dir) {
  auto table = read_file("/proc/self/mountinfo");
  return table.ok() && !mount_points_below(dir, *table).empty();
}

// Unmounts what a failed test left, before Scratch removes the directory.
struct DetachBelow {
  fs::path dir;
  ~DetachBelow() { detach_mounts_below(dir); }
};

TEST(InterruptCleanupMounts, TreeWalksNeverEnterAMountPoint) {
  Scratch scratch;
  DetachBelow detach{scratch.path};
  const fs::path root = scratch.path / "tree";
  const fs::path point = root / "bundle" / "rootfs";
  fs::create_directories(point);
  ASSERT_TRUE(write_file_atomic(root / "beside", "x").ok());
  if (!mount_tmpfs(point)) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  ASSERT_TRUE(write_file_atomic(point / "kept", "x").ok());
  EXPECT_FALSE(remove_tree_signal_safe(root.c_str()));
  EXPECT_TRUE(fs::exists(point / "kept"));  // not emptied through the mount
  EXPECT_FALSE(fs::exists(root / "beside"));
  Status removed = remove_tree(root);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().message, point.string() + ": a mount point, left in place");
  EXPECT_TRUE(fs::exists(point / "kept"));
  ASSERT_EQ(::umount2(point.c_str(), 0), 0);
  EXPECT_TRUE(remove_tree(root).ok());
  EXPECT_FALSE(fs::exists(root));
}

// A child that makes a TempDir in `dir` with a tmpfs mounted inside it,
// registered as a mount, writes 1 to `ready` (0 where it cannot mount) and
// waits to be stopped.
pid_t start_mounting_child(const fs::path& dir, int ready) {
  pid_t pid = ::fork();
  if (pid != 0) {
    return pid;
  }
  install_cleanup_in_child();
  auto temp = TempDir::create("distill-test-", dir);
  if (!temp.ok()) {
    ::_exit(3);
  }
  const fs::path point = temp->path() / "bundle" / "rootfs";
  fs::create_directories(point);
  CleanupRegistration mounted(point, CleanupKind::Mount);
  char byte = mount_tmpfs(point) && write_file_atomic(point / "f", "x").ok() ? 1 : 0;
  (void)::write(ready, &byte, 1);
  for (;;) {
    ::pause();
  }
}

// Starts the child above; false (and the child gone) when it could not mount.
bool mounting_child(const fs::path& dir, pid_t* pid) {
  int fds[2];
  if (::pipe(fds) != 0) {
    return false;
  }
  *pid = start_mounting_child(dir, fds[1]);
  char byte = 0;
  const bool read = ::read(fds[0], &byte, 1) == 1;
  ::close(fds[0]);
  ::close(fds[1]);
  if (!read || byte != 1) {
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    return false;
  }
  return true;
}

// A child that holds a tmpfs mounted inside its TempDir, registered.
class MountingChild : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mounting_child(scratch.path, &pid)) {
      GTEST_SKIP() << "cannot mount a tmpfs here";
    }
    ASSERT_TRUE(mounted_below(scratch.path));
  }
  // Stops the child with `signo`; its wait status.
  int stop(int signo) const {
    int status = 0;
    EXPECT_EQ(::kill(pid, signo), 0);
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return status;
  }

  Scratch scratch;
  DetachBelow detach{scratch.path};
  pid_t pid = 0;
};

TEST_F(MountingChild, ASignalDetachesARegisteredMountThenRemovesTheTree) {
  const int status = stop(SIGINT);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_FALSE(mounted_below(scratch.path));
  EXPECT_EQ(count_entries(scratch.path), 0U);
}

TEST_F(MountingChild, SweepDetachesWhatAKilledOwnerLeftMounted) {
  stop(SIGKILL);
  EXPECT_TRUE(mounted_below(scratch.path));  // SIGKILL: nothing ran
  EXPECT_EQ(count_entries(scratch.path), 1U);
  EXPECT_EQ(sweep_abandoned(scratch.path, "distill-test-"), 1U);
  EXPECT_FALSE(mounted_below(scratch.path));
  EXPECT_EQ(count_entries(scratch.path), 0U);
}

}  // namespace
}  // namespace distill::util
