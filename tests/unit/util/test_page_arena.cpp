// page_arena tests (page_arena.hpp): size classes bound the waste, blocks are
// whole, distinct and reused by size class, the region is brought in ahead
// step by step up to a limit without changing the bytes of blocks handed out
// meanwhile, releasing gives back the pages of free blocks and no others and
// ends growth ahead, small requests and foreign blocks
// go to malloc()/free(), and threads allocating at once get blocks that do not
// overlap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "util/arena_bytes.hpp"
#include "util/page_arena.hpp"

namespace distill::util {
namespace {

TEST(PageArena, SizeClassesCoverTheRequestWithLittleWaste) {
  size_t previous = 0;
  for (size_t size = k_arena_min; size <= (size_t{64} << 20); size += size / 7 + 4093) {
    const size_t block = arena_block_size(size);
    EXPECT_GE(block, size) << size;
    EXPECT_EQ(block % k_arena_min, 0U) << size;
    EXPECT_LT(block, size + size / 4 + k_arena_min) << size;
    EXPECT_GE(block, previous) << size;  // a bigger request never gets a smaller block
    previous = block;
  }
  // Exact sizes a build asks for keep their size.
  EXPECT_EQ(arena_block_size(size_t{1} << 20), size_t{1} << 20);  // a gzip chunk
  EXPECT_EQ(arena_block_size(size_t{8} << 20), size_t{8} << 20);  // xz -6's dictionary
  EXPECT_EQ(arena_block_size(k_arena_min), k_arena_min);
  EXPECT_EQ(arena_block_size(k_arena_min + 1), 2 * k_arena_min);
}

// The line starting with `key` ("VmFlags:", "Rss:") of the mapping of
// /proc/self/smaps that holds `address` (and where that mapping begins, in
// `start`); empty when none does.
std::string smaps_line_of(const void* address, const std::string& key, uintptr_t* start = nullptr) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0;
    uintptr_t end = 0;
    char dash = 0;
    std::istringstream range(line);
    // A mapping's first line is "BEGIN-END perms ..."; its keys ("Size:",
    // "VmFlags:") never read as a hex number followed by '-'.
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
      if (inside && start != nullptr) {
        *start = begin;
      }
    } else if (inside && line.rfind(key, 0) == 0) {
      return line;
    }
  }
  return {};
}

std::string vm_flags_of(const void* address, uintptr_t* start = nullptr) {
  return smaps_line_of(address, "VmFlags:", start);
}

// The resident KiB of the mapping that holds `address`; -1 when none does.
long rss_kib_of(const void* address) {
  const std::string line = smaps_line_of(address, "Rss:");
  return line.empty() ? -1 : std::stol(line.substr(4));
}

// Blocks sit in a region that asks for huge pages whatever the system's THP
// default, starting on a 2 MiB boundary so that each step the region grows
// by can be one (page_arena.hpp).
TEST(PageArena, RegionAsksForHugePages) {
  if (!arena_active()) {
    GTEST_SKIP() << "no region (AddressSanitizer, or the reservation was refused)";
  }
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "a kernel without transparent huge pages refuses the advice";
  }
  void* block = arena_allocate(size_t{1} << 20);
  ASSERT_NE(block, nullptr);
  uintptr_t start = 0;
  const std::string flags = vm_flags_of(block, &start);
  arena_free(block);
  ASSERT_FALSE(flags.empty()) << "no mapping in /proc/self/smaps holds the block";
  EXPECT_NE((flags + " ").find(" hg "), std::string::npos) << flags;
  EXPECT_EQ((flags + " ").find(" nh "), std::string::npos) << flags;
  // The writable part of the region (the mapping holding its blocks) starts
  // where the region does, on a 2 MiB boundary, and grows by 2 MiB steps.
  EXPECT_EQ(start % (size_t{2} << 20), 0U) << std::hex << start;
}

TEST(PageArena, BlocksAreWholeAndGivenBackForReuse) {
  if (!arena_active()) {
    GTEST_SKIP() << "no region (AddressSanitizer, or the reservation was refused)";
  }
  constexpr size_t k_size = (size_t{3} << 20) + 12345;
  const size_t before = arena_bytes_in_use();
  auto* a = static_cast<unsigned char*>(arena_allocate(k_size));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % k_arena_min, 0U);
  EXPECT_EQ(arena_bytes_in_use(), before + arena_block_size(k_size));
  std::memset(a, 0x5a, arena_block_size(k_size));  // the whole block is writable
  auto* b = static_cast<unsigned char*>(arena_allocate(k_size));
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  std::memset(b, 0xa5, k_size);
  EXPECT_EQ(a[arena_block_size(k_size) - 1], 0x5a);  // b does not overlap a
  arena_free(a);
  EXPECT_EQ(arena_bytes_in_use(), before + arena_block_size(k_size));
  // A request of the same class gets the block given back.
  EXPECT_EQ(arena_allocate(k_size - 1000), a);
  arena_free(a);
  arena_free(b);
  EXPECT_EQ(arena_bytes_in_use(), before);
}

// Runs `threads` threads that each get `rounds` blocks of sizes from 64 KiB
// to 2.5 MiB, fill each with a byte of their own, give back the oldest every
// `give_back_every` rounds (0: never) and check, before each block is given
// back, that it kept its bytes; `meanwhile` runs on the calling thread. The
// failures of each thread.
std::vector<int> allocate_on_threads(int threads, int rounds, int give_back_every,
                                     const std::function<void()>& meanwhile) {
  std::vector<std::thread> running;
  running.reserve(threads);
  std::vector<int> failures(threads, 0);
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([t, rounds, give_back_every, &failures] {
      const auto fill = static_cast<unsigned char>(t + 1);
      const auto kept = [fill](const std::pair<unsigned char*, size_t>& held) {
        return std::all_of(held.first, held.first + held.second,
                           [fill](unsigned char c) { return c == fill; });
      };
      std::deque<std::pair<unsigned char*, size_t>> held;
      for (int i = 0; i < rounds; ++i) {
        const size_t size = k_arena_min * static_cast<size_t>(1 + ((i * 7 + t) % 40));
        auto* block = static_cast<unsigned char*>(arena_allocate(size));
        if (block == nullptr) {
          ++failures[t];
          continue;
        }
        std::memset(block, fill, size);
        held.emplace_back(block, size);
        if (give_back_every != 0 && i % give_back_every == give_back_every - 1) {
          failures[t] += kept(held.front()) ? 0 : 1;  // given back while others allocate
          arena_free(held.front().first);
          held.pop_front();
        }
      }
      for (const auto& block : held) {
        failures[t] += kept(block) ? 0 : 1;
        arena_free(block.first);
      }
    });
  }
  meanwhile();
  for (auto& thread : running) {
    thread.join();
  }
  return failures;
}

// A build brings in the region's first steps while its plan is made
// (arena_bring_in_ahead()): one step a call, up to the limit, resident at
// once. (Defined before the test that releases: after that, the region
// grows ahead no more in this process.)
TEST(PageArena, BringingInAheadGrowsTheRegionStepByStepUpToTheLimit) {
  if (!arena_active()) {
    GTEST_SKIP() << "no region (AddressSanitizer, or the reservation was refused)";
  }
  void* probe = arena_allocate(k_arena_min);  // the region's mapping exists
  ASSERT_NE(probe, nullptr);
  const size_t start = arena_size();
  const long resident = rss_kib_of(probe);
  ASSERT_GE(resident, 0) << "no mapping in /proc/self/smaps holds the block";
  const size_t limit = start + 4 * k_arena_step + k_arena_step / 2;
  int steps = 0;
  while (arena_bring_in_ahead(limit)) {
    ++steps;
  }
  EXPECT_EQ(steps, 4);
  EXPECT_EQ(arena_size(), start + 4 * k_arena_step);
  EXPECT_FALSE(arena_bring_in_ahead(limit));
  EXPECT_FALSE(arena_bring_in_ahead(0));
  // Brought in: 8 MiB more resident, before any block is handed out there.
  EXPECT_GE(rss_kib_of(probe) - resident, 8 * 1024);
  // A block carved from that part takes writes and keeps them.
  const size_t size = size_t{3} << 20;
  auto* block = static_cast<unsigned char*>(arena_allocate(size));
  ASSERT_NE(block, nullptr);
  std::memset(block, 0x69, size);
  EXPECT_EQ(std::count(block, block + size, 0x69), static_cast<std::ptrdiff_t>(size));
  EXPECT_EQ(arena_size(), start + 4 * k_arena_step);  // no growth: it was there
  arena_free(block);
  arena_free(probe);
}

// A step is brought in by writing to its pages while other threads may be
// handed blocks there: none of their bytes changes (and under
// ThreadSanitizer, no race).
TEST(PageArena, BlocksHandedOutWhileStepsAreBroughtInKeepTheirBytes) {
  const size_t limit = arena_size() + 24 * k_arena_step;
  const std::vector<int> failures = allocate_on_threads(2, 40, 0, [limit] {
    while (arena_bring_in_ahead(limit)) {
    }
  });
  for (size_t t = 0; t < failures.size(); ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  }
}

TEST(PageArena, ReleasingGivesBackThePagesOfFreeBlocksOnly) {
  if (!arena_active()) {
    GTEST_SKIP() << "no region (AddressSanitizer, or the reservation was refused)";
  }
  constexpr size_t k_size = (size_t{5} << 20) + 777;
  const size_t block = arena_block_size(k_size);
  auto* in_use = static_cast<unsigned char*>(arena_allocate(k_size));
  auto* freed = static_cast<unsigned char*>(arena_allocate(k_size));
  ASSERT_NE(in_use, nullptr);
  ASSERT_NE(freed, nullptr);
  std::memset(in_use, 0x5a, block);
  std::memset(freed, 0xa5, block);
  arena_free(freed);
  const size_t before = arena_bytes_in_use();
  arena_release_free();
  EXPECT_EQ(arena_bytes_in_use(), before);
  // The block in use keeps what was written to it.
  EXPECT_EQ(std::count(in_use, in_use + block, 0x5a), static_cast<std::ptrdiff_t>(block));
  // The free one is still the region's, handed out again for its class, and
  // its pages were given back: they read as zeros (brought in afresh), and
  // take writes.
  auto* again = static_cast<unsigned char*>(arena_allocate(k_size));
  ASSERT_EQ(again, freed);
  EXPECT_EQ(std::count(again, again + block, 0), static_cast<std::ptrdiff_t>(block));
  std::memset(again, 0x3c, block);
  EXPECT_EQ(again[block - 1], 0x3c);
  arena_free(again);
  arena_free(in_use);
  // Once a build has released its free blocks, the region grows ahead no more.
  EXPECT_FALSE(arena_bring_in_ahead(arena_size() + 4 * k_arena_step));
}

TEST(PageArena, SmallAndForeignBlocksGoToMalloc) {
  const size_t before = arena_bytes_in_use();
  void* small = arena_allocate(k_arena_min - 1);
  ASSERT_NE(small, nullptr);
  std::memset(small, 1, k_arena_min - 1);
  EXPECT_EQ(arena_bytes_in_use(), before);
  arena_free(small);  // a malloc() block: freed (AddressSanitizer would report otherwise)
  arena_free(std::malloc(k_arena_min * 2));
  arena_free(nullptr);
  EXPECT_EQ(arena_bytes_in_use(), before);
}

TEST(PageArena, ArraysAndByteBuffersUseIt) {
  const size_t before = arena_bytes_in_use();
  {
    auto array = make_arena_array<unsigned char>(size_t{1} << 20);
    array[(size_t{1} << 20) - 1] = 7;
    ArenaBytes buffer;
    buffer.reserve(size_t{2} << 20);
    const std::vector<unsigned char> threes(size_t{2} << 20, 3);
    buffer.append(threes.data(), threes.size());
    EXPECT_EQ(buffer.data()[buffer.size() - 1], 3);
    if (arena_active()) {
      EXPECT_EQ(arena_bytes_in_use(), before + (size_t{3} << 20));
    }
  }
  EXPECT_EQ(arena_bytes_in_use(), before);
}

// A build gives its pages back at the end only off huge pages (execute.cpp):
// the region is on them exactly where it exists and the system gives them.
TEST(PageArena, OnHugePagesWhereTheSystemGivesThem) {
  std::ifstream sysfs("/sys/kernel/mm/transparent_hugepage/enabled");
  std::stringstream mode;
  mode << sysfs.rdbuf();
  const bool given = sysfs.is_open() && mode.str().find("[never]") == std::string::npos &&
                     mode.str().find('[') != std::string::npos;
  EXPECT_EQ(arena_on_huge_pages(), arena_active() && given) << mode.str();
}

TEST(PageArena, ThreadsGetBlocksThatDoNotOverlap) {
  const std::vector<int> failures = allocate_on_threads(4, 50, 3, [] {});
  for (size_t t = 0; t < failures.size(); ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  }
}

}  // namespace
}  // namespace distill::util
