#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"
#include "util/text.hpp"
#include "util/thread_pool.hpp"
#include "util/worker_pool.hpp"

namespace distill::util {
namespace {

TEST(AtomicFile, CommitPublishesWholeFile) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  auto path = dir->path() / "a";
  ASSERT_TRUE(write_file_atomic(path, "hello").ok());
  auto data = read_file(path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "hello");
}

TEST(AtomicFile, NoCommitLeavesNothing) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  {
    auto file = AtomicFile::create(dir->path() / "b");
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->write("partial").ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir->path()));
}

// link_as publishes one file under several names, the first where none was,
// the second over an older file, and the temporary's own name goes with it.
TEST(AtomicFile, LinkAsPublishesOneFileUnderSeveralNames) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(write_file_atomic(dir->path() / "two", "old").ok());
  {
    auto file = AtomicFile::create(dir->path() / "batch");
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->write("shared").ok());
    ASSERT_TRUE(file->link_as(dir->path() / "one").ok());
    ASSERT_TRUE(file->link_as(dir->path() / "two").ok());
    EXPECT_EQ(std::filesystem::hard_link_count(dir->path() / "one"), 3U);
  }
  EXPECT_EQ(*read_file(dir->path() / "one"), "shared");
  EXPECT_EQ(*read_file(dir->path() / "two"), "shared");
  EXPECT_EQ(std::filesystem::hard_link_count(dir->path() / "two"), 2U);
  size_t names = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir->path())) {
    EXPECT_TRUE(entry.path().filename() == "one" || entry.path().filename() == "two")
        << entry.path();
    ++names;
  }
  EXPECT_EQ(names, 2U);
}

TEST(AtomicFile, LinkAsNamesTheDestinationItCannotMake) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  auto file = AtomicFile::create(dir->path() / "batch");
  ASSERT_TRUE(file.ok());
  auto linked = file->link_as(dir->path() / "missing" / "one");
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().message.find("missing/one"), std::string::npos)
      << linked.error().message;
}

// Another process may remove its own files inside a TempDir while the
// directory goes: a gpg-agent stopping takes its sockets. remove_all() stops
// at the first entry that vanishes under it, which left whole directories
// in /tmp. Here a thread removes a subdirectory's files, from the last one,
// while the TempDir is destroyed; every round must leave nothing.
TEST(TempDir, GoesWholeWhileAnotherThreadRemovesFilesInIt) {
  constexpr int k_rounds = 20;
  constexpr int k_files = 300;
  int left = 0;
  for (int round = 0; round < k_rounds; ++round) {
    std::filesystem::path where;
    std::atomic<bool> started{false};
    std::thread remover;
    {
      auto dir = TempDir::create("distill-race-");
      ASSERT_TRUE(dir.ok());
      where = dir->path();
      std::filesystem::create_directory(where / "agent");
      for (int i = 0; i < k_files; ++i) {
        ASSERT_TRUE(write_new_file(where / "agent" / ("s" + std::to_string(i)), "x").ok());
      }
      ASSERT_TRUE(write_new_file(where / "after", "x").ok());
      remover = std::thread([&where, &started] {
        started = true;
        for (int i = k_files - 1; i >= 0; --i) {
          std::error_code ec;
          std::filesystem::remove(where / "agent" / ("s" + std::to_string(i)), ec);
        }
      });
      while (!started) {
        std::this_thread::yield();
      }
    }  // the TempDir goes here, while the thread removes
    remover.join();
    if (std::filesystem::exists(where)) {
      ++left;
      std::filesystem::remove_all(where);
    }
  }
  EXPECT_EQ(left, 0) << "directories left behind, of " << k_rounds;
}

// -o /dev/null as root must not leave a regular file where the device was: a
// FIFO stands in for the device (mknod needs privileges a test may not have).
TEST(AtomicFile, AFifoIsWrittenToNotReplaced) {
  auto dir = TempDir::create("distill-fifo-");
  ASSERT_TRUE(dir.ok());
  auto fifo = dir->path() / "out";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] {
    auto text = read_file(fifo);
    got = text.ok() ? *text : "";
  });
  ASSERT_TRUE(write_file_atomic(fifo, "through the pipe").ok());
  reader.join();
  EXPECT_EQ(got, "through the pipe");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir->path()),
                          std::filesystem::directory_iterator()),
            1);
}

// A new file gets the mode asked for whatever the umask, never replaces one
// that exists (the error names it), and a failed write leaves nothing.
TEST(WriteNewFile, MakesTheFileWithItsModeAndNeverReplacesOne) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  auto path = dir->path() / "new";
  const mode_t old_umask = ::umask(077);
  Status written = write_new_file(path, "fresh");
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(*read_file(path), "fresh");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644U);

  Status again = write_new_file(path, "other");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find(path.string()), std::string::npos);
  EXPECT_EQ(*read_file(path), "fresh");

  EXPECT_FALSE(write_new_file(dir->path() / "missing" / "file", "x").ok());
  EXPECT_FALSE(std::filesystem::exists(dir->path() / "missing"));
}

TEST(ReadFile, MissingFileNamesPath) {
  auto data = read_file("/nonexistent/distill-test");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().kind, ErrorKind::NotFound);
  EXPECT_NE(data.error().message.find("/nonexistent/distill-test"), std::string::npos);
}

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto result = run_command(
      {.argv = {"sh", "-c", "cat; echo err >&2; exit 3"}, .stdin_data = std::string("in\n")});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->stdout_data, "in\n");
  EXPECT_EQ(result->stderr_data, "err\n");
}

TEST(Subprocess, MissingProgramIsNotFound) {
  auto result = run_command({.argv = {"distill-no-such-program"}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::NotFound);
}

TEST(Text, HumanSizes) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(4096), "4.0 KiB");
  EXPECT_EQ(human_size(12 * 1024 * 1024 + 300 * 1024), "12.3 MiB");
  EXPECT_EQ(human_size(3ULL << 29), "1.50 GiB");
}

// ASCII only, whatever the locale: bytes above 0x7f are left as they are.
TEST(Text, AsciiCaseFolding) {
  EXPECT_EQ(ascii_lower("Content-Type: Bearer ABCdef09"), "content-type: bearer abcdef09");
  EXPECT_EQ(ascii_lower("\xc3\x89T\xc3\x89"), "\xc3\x89t\xc3\x89");
  EXPECT_EQ(ascii_lower(""), "");
  static_assert(ascii_lower('Z') == 'z' && ascii_lower('@') == '@' && ascii_lower('[') == '[');
  EXPECT_TRUE(iequals("SHA256", "sha256"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Size", "Sizes"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // no folding beyond ASCII
}

TEST(ThreadPool, RunsEveryTaskOnce) {
  std::atomic<int> sum{0};
  parallel_for(1000, 4, [&](size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum.load(), 999 * 1000 / 2);
}

std::string this_thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

TEST(ThreadPool, NamesLongerThanTheKernelKeepsAreCut) {
  std::string seen;
  std::thread([&] {
    name_this_thread("distill-a-name-far-too-long");
    seen = this_thread_name();
  }).join();
  EXPECT_EQ(seen, "distill-a-name-");
}

TEST(ThreadPool, MoveOffCpuLeavesItAndKeepsWhereTheThreadMayRun) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  if (CPU_COUNT(&allowed) < 2) {
    GTEST_SKIP() << "one CPU only: nowhere to move to";
  }
  int from = -1;
  int to = -1;
  bool moved = false;
  bool same_cpus_after = false;
  bool moved_alone = true;
  std::thread([&] {
    from = ::sched_getcpu();
    moved = move_off_cpu(from);
    to = ::sched_getcpu();
    cpu_set_t after;
    CPU_ZERO(&after);
    same_cpus_after =
        ::sched_getaffinity(0, sizeof after, &after) == 0 && CPU_EQUAL(&after, &allowed) != 0;
    // Allowed on one CPU only, a thread has nowhere to go.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(to, &one);
    if (::sched_setaffinity(0, sizeof one, &one) == 0) {
      moved_alone = move_off_cpu(to);
    }
  }).join();
  EXPECT_TRUE(moved);
  EXPECT_NE(to, from);
  EXPECT_TRUE(same_cpus_after);
  EXPECT_FALSE(moved_alone);
  EXPECT_FALSE(move_off_cpu(-1));
}

TEST(ThreadPool, HelperThreadsAndWorkersAreNamed) {
  std::mutex mutex;
  std::set<std::string> names;
  parallel_for(64, 4, [&](size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard lock(mutex);
    names.insert(this_thread_name());
  });
  EXPECT_TRUE(names.count("distill-par") == 1) << "helpers are named";
  WorkerPool pool(2);
  TaskGroup group(pool);
  std::string in_pool;
  group.submit([&] { in_pool = this_thread_name(); });
  group.wait();
  EXPECT_EQ(in_pool, "distill-pool");
}

// A task that holds the pool's only thread until released.
struct Hold {
  std::mutex mutex;
  std::condition_variable changed;
  bool started = false;
  bool released = false;
  void run() {
    std::unique_lock lock(mutex);
    started = true;
    changed.notify_all();
    changed.wait(lock, [&] { return released; });
  }
  void wait_started() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return started; });
  }
  void release() {
    std::lock_guard lock(mutex);
    released = true;
    changed.notify_all();
  }
};

// A one-thread pool whose thread a task holds until release(): what is
// queued meanwhile waits, then runs in the pool's order.
struct HeldPool {
  WorkerPool pool{1};
  TaskGroup group{pool};
  Hold hold;
  HeldPool() {
    group.submit([this] { hold.run(); });
    hold.wait_started();
  }
  // Lets the held task end, and waits for every task of the group.
  void release() {
    hold.release();
    group.wait();
  }
};

// Tasks submitted together are all queued before the first runs: a thread
// that takes the first finds the rest there, however the caller is scheduled.
TEST(WorkerPool, TasksSubmittedTogetherAreQueuedBeforeAnyRuns) {
  for (int round = 0; round < 50; ++round) {
    WorkerPool pool(1);
    TaskGroup group(pool);
    std::vector<int> order;  // written by the pool's one thread only
    bool others_queued = false;
    std::vector<std::function<void()>> tasks;
    tasks.emplace_back([&] {
      others_queued = pool.has_tasks();
      order.push_back(0);
    });
    for (int i = 1; i < 4; ++i) {
      tasks.emplace_back([&order, i] { order.push_back(i); });
    }
    group.submit(std::move(tasks));
    group.wait();
    ASSERT_TRUE(others_queued) << "round " << round;
    ASSERT_EQ(order, (std::vector<int>{0, 1, 2, 3})) << "round " << round;
  }
  WorkerPool pool(2);
  TaskGroup group(pool);
  group.submit(std::vector<std::function<void()>>{});  // nothing to wait for
  group.wait();
}

TEST(WorkerPool, OfferedJobsRunBeforeTasksNotYetStarted) {
  HeldPool held;
  std::vector<std::string> order;  // written by the pool's one thread only
  held.group.submit([&] { order.push_back("task"); });
  held.pool.offer([&] { order.push_back("job 1"); });
  held.pool.offer([&] { order.push_back("job 2"); });
  held.release();
  EXPECT_EQ(order, (std::vector<std::string>{"job 1", "job 2", "task"}));
  EXPECT_FALSE(held.pool.has_jobs());
}

TEST(WorkerPool, HelpRunsTheOldestOfferedJobOnTheCaller) {
  HeldPool held;
  WorkerPool& pool = held.pool;
  EXPECT_FALSE(pool.help()) << "nothing offered yet";
  std::vector<std::string> ran;
  std::thread::id where;
  pool.offer([&] {
    ran.push_back("first");
    where = std::this_thread::get_id();
  });
  pool.offer([&] { ran.push_back("second"); });
  EXPECT_TRUE(pool.has_jobs());
  EXPECT_TRUE(pool.help());
  EXPECT_EQ(ran, std::vector<std::string>{"first"});
  EXPECT_EQ(where, std::this_thread::get_id());
  EXPECT_TRUE(pool.help());
  EXPECT_FALSE(pool.help());
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second"}));
  held.release();
}

// A task waiting for its jobs runs the next queued task meanwhile, on its
// own thread, one at a time: a task run that way gets no other.
TEST(WorkerPool, RunTaskRunsTheNextTaskOnTheCallerOneAtATime) {
  WorkerPool pool(1);
  TaskGroup group(pool);
  std::vector<std::string> ran;  // written by the pool's one thread only
  std::thread::id waiter;
  std::thread::id borrowed;
  bool nested = true;
  group.submit([&] {
    waiter = std::this_thread::get_id();
    ran.push_back("first");
    EXPECT_FALSE(pool.has_tasks());
    EXPECT_FALSE(pool.run_task()) << "nothing queued yet";
    group.submit([&] {
      borrowed = std::this_thread::get_id();
      ran.push_back("second");
      // Queued meanwhile, and not for this borrowed task to take.
      group.submit([&] { ran.push_back("third"); });
      EXPECT_FALSE(pool.has_tasks());
      nested = pool.run_task();
    });
    EXPECT_TRUE(pool.has_tasks());
    EXPECT_TRUE(pool.run_task());
    ran.push_back("first, again");
  });
  group.wait();
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second", "first, again", "third"}));
  EXPECT_EQ(borrowed, waiter);
  EXPECT_FALSE(nested);
}

// A job for idle time runs on a thread of the pool, after the tasks and jobs
// queued before it, and is not the caller's to run.
TEST(WorkerPool, WhenIdleRunsOnThePoolAfterQueuedWork) {
  HeldPool held;
  std::vector<std::string> order;  // written by the pool's one thread only
  std::promise<std::thread::id> where;
  held.pool.when_idle([&] {
    order.push_back("idle");
    where.set_value(std::this_thread::get_id());
  });
  held.group.submit([&] { order.push_back("task"); });
  held.pool.offer([&] { order.push_back("job"); });
  held.release();
  EXPECT_NE(where.get_future().get(), std::this_thread::get_id());
  EXPECT_EQ(order, (std::vector<std::string>{"job", "task", "idle"}));
}

// While a thread of a new pool waits awake for the first work, the jobs for
// idle time are its own: the other threads, which may share the creator's
// CPU, do not take them. Work that comes then ends the wait as usual.
TEST(WorkerPool, WhenIdleDuringTheAwakeWaitRunsOnTheWaitingThread) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (::sched_getaffinity(0, sizeof cpus, &cpus) != 0 || CPU_COUNT(&cpus) < 2) {
    GTEST_SKIP() << "one CPU: no thread of a pool waits awake";
  }
  WorkerPool pool(3, std::chrono::seconds(60));
  std::mutex mutex;
  std::set<std::thread::id> ran_on;
  std::atomic<int> ran{0};
  constexpr int k_jobs = 20;
  for (int i = 0; i < k_jobs; ++i) {
    pool.when_idle([&] {
      {
        std::lock_guard<std::mutex> lock(mutex);
        ran_on.insert(std::this_thread::get_id());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++ran;
    });
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto await_ran = [&](int count) {
    while (ran.load() < count && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return ran.load();
  };
  ASSERT_EQ(await_ran(k_jobs), k_jobs);
  EXPECT_EQ(ran_on.size(), 1U);
  EXPECT_EQ(ran_on.count(std::this_thread::get_id()), 0U);
  TaskGroup group(pool);
  std::atomic<int> tasks{0};
  for (int i = 0; i < 4; ++i) {
    group.submit([&] { ++tasks; });
  }
  group.wait();
  EXPECT_EQ(tasks.load(), 4);
  pool.when_idle([&] { ++ran; });  // after the wait: any thread with nothing to do
  EXPECT_EQ(await_ran(k_jobs + 1), k_jobs + 1);
}

// stop() is what a process does before its statics go (cli/main.cpp): it
// returns only once the job for idle time that is running has finished (a
// cache sweep reading the cache's kinds), after the tasks queued meanwhile,
// and drops the idle jobs not begun. A second stop, and the destructor after
// it, do nothing more.
TEST(WorkerPool, StopFinishesWhatRunsAndDropsIdleJobsNotBegun) {
  WorkerPool pool(1);
  std::promise<void> started;
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::atomic<bool> sweep_done{false};
  std::atomic<bool> later_ran{false};
  std::atomic<bool> task_ran{false};
  pool.when_idle([&] {
    started.set_value();
    open.wait();
    sweep_done = true;
  });
  pool.when_idle([&] { later_ran = true; });
  started.get_future().wait();
  pool.submit([&] { task_ran = true; });
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    stopping = true;
    pool.stop();
    stopped = true;
  });
  while (!stopping.load()) {
    std::this_thread::yield();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // into stop()'s wait
  EXPECT_FALSE(stopped.load()) << "stop() returned while a job ran";
  gate.set_value();
  stopper.join();
  EXPECT_TRUE(sweep_done.load());
  EXPECT_TRUE(task_ran.load());
  EXPECT_FALSE(later_ran.load());
  pool.stop();
}

// One thread of a new pool waits awake for the first work, for a while
// (worker_pool.cpp): work that comes later, and a pool destroyed during that
// wait, are served like any other.
TEST(WorkerPool, WorkAfterTheFirstAwakeWaitStillRuns) {
  { WorkerPool gone(2); }  // destroyed while a thread may be waiting awake
  WorkerPool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the wait
  TaskGroup group(pool);
  std::atomic<int> ran{0};
  for (int i = 0; i < 4; ++i) {
    group.submit([&] { ++ran; });
  }
  group.wait();
  EXPECT_EQ(ran.load(), 4);
  std::atomic<bool> job_ran{false};
  pool.offer([&] { job_ran = true; });
  while (!job_ran.load()) {
    std::this_thread::yield();  // a pool thread takes it, or this one
    pool.help();
  }
  EXPECT_FALSE(pool.has_jobs());
}

}  // namespace
}  // namespace distill::util
