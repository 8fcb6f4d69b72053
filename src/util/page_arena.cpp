#include "util/page_arena.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "util/file_io.hpp"
#include "util/prefault.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define DISTILL_ARENA_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DISTILL_ARENA_OFF 1
#endif
#endif

namespace distill::util {

namespace {

// Whether the kernel gives a region that asks for them transparent huge
// pages: "always" or "madvise" in sysfs, not "never" (nor no sysfs at all).
bool transparent_huge_pages_on() {
  auto mode = read_file("/sys/kernel/mm/transparent_hugepage/enabled");
  return mode.ok() && mode->find("[never]") == std::string::npos &&
         mode->find('[') != std::string::npos;
}

// The region grows by this much at a time: one huge page, the region
// starting on a boundary of one.
constexpr size_t k_grow_step = k_arena_step;
// Address space only: no memory behind it until used. A build keeps well
// under 200 MiB of buffers.
constexpr size_t k_reserve = size_t{4} << 30;

// Size classes, in units of k_arena_min: 1, 2, 3, 4, then four to each
// doubling (5, 6, 7, 8, 10, 12, 14, 16, 20, ...).
size_t class_of(size_t size) {
  const size_t units = (size + k_arena_min - 1) / k_arena_min;
  if (units <= 4) {
    return units == 0 ? 0 : units - 1;
  }
  const auto top = static_cast<size_t>(std::bit_width(units) - 1);  // 2^top <= units
  const size_t step = size_t{1} << (top - 2);
  const size_t quarter = (units - (size_t{1} << top) + step - 1) / step;  // 0..4
  return 3 + (top - 2) * 4 + quarter;
}

size_t class_size(size_t cls) {
  if (cls < 4) {
    return (cls + 1) * k_arena_min;
  }
  const size_t top = (cls - 3) / 4 + 2;
  const size_t quarter = (cls - 3) % 4;
  return ((size_t{1} << top) + quarter * (size_t{1} << (top - 2))) * k_arena_min;
}

// Brings in [first, first + size), a range no other thread uses meanwhile,
// by writing to each page: an atomic OR of 0, which leaves the bytes as
// they were. A page fault takes the lock of that mapping only, where
// MADV_POPULATE_WRITE holds the process's address-space lock throughout, so
// that another thread's mmap() or munmap() waited for it (3.5-4 ms for one
// huge page when the host must back it anew; docs/benchmarks.md, session 35).
// On the region's huge pages that is one fault a step; prefault_write() stays
// for memory on 4 KiB pages, where it would be one a page.
void touch_pages(void* first, size_t size) {
  const size_t page = page_size();
  auto* bytes = static_cast<char*>(first);
  for (size_t at = 0; at < size; at += page) {
    __atomic_fetch_or(bytes + at, char{0}, __ATOMIC_RELAXED);
  }
}

class Arena {
 public:
  static Arena& instance() {
    static auto* arena = new Arena;  // never destroyed: blocks may be freed after main()
    return *arena;
  }

  bool active() const { return m_base != nullptr; }
  bool on_huge_pages() const { return m_huge; }

  void* allocate(size_t size) {
    const size_t cls = class_of(size);
    if (active()) {
      std::unique_lock lock(m_mutex);
      if (cls < m_free.size() && !m_free[cls].empty()) {
        const FreeBlock free = m_free[cls].back();
        m_free[cls].pop_back();
        m_in_use += class_size(cls);
        if (free.released) {  // its pages were given back: brought in again
          lock.unlock();
          touch_pages(free.at, class_size(cls));
        }
        return free.at;
      }
      if (void* block = carve(cls)) {
        const size_t bytes = class_size(cls);
        const size_t from = static_cast<char*>(block) - m_base;
        // Not while a step brought in ahead that it shares is being brought in.
        m_ahead_done.wait(lock, [&] {
          return !m_ahead || *m_ahead + k_grow_step <= from || *m_ahead >= from + bytes;
        });
        if (from + bytes <= m_ready) {
          return block;  // brought in ahead
        }
        // Brought in with the lock let go: on a virtual machine whose host
        // has taken back the guest's free memory (free page reporting),
        // 8 MiB took 25 ms here, and the other threads waited for it. The
        // block's own pages only: the rest of what the region grew by may
        // be another thread's block meanwhile.
        lock.unlock();
        touch_pages(block, bytes);
        return block;
      }
    }
    return prefaulted_malloc(size);
  }

  // False when `block` is not the region's.
  bool release(void* block) {
    const auto at = reinterpret_cast<uintptr_t>(block);
    const auto base = reinterpret_cast<uintptr_t>(m_base);
    if (!active() || at < base || at - base >= k_reserve) {
      return false;
    }
    std::lock_guard lock(m_mutex);
    const size_t cls = m_class.at(at - base);
    if (m_free.size() <= cls) {
      m_free.resize(cls + 1);
    }
    m_free[cls].push_back({block, false});
    m_in_use -= class_size(cls);
    return true;
  }

  bool bring_in_ahead(size_t limit) {
    if (!active()) {
      return false;
    }
    size_t step = 0;
    {
      std::lock_guard lock(m_mutex);
      if (m_ahead_over || m_ahead || m_committed + k_grow_step > std::min(limit, k_reserve) ||
          !commit(k_grow_step)) {
        return false;
      }
      step = m_committed - k_grow_step;
      m_ahead = step;
    }
    touch_pages(m_base + step, k_grow_step);
    {
      std::lock_guard lock(m_mutex);
      if (m_ready == step) {
        m_ready = step + k_grow_step;
      }
      m_ahead.reset();
    }
    m_ahead_done.notify_all();
    return true;
  }

  void release_free() {
    if (!active()) {
      return;
    }
    // Out of the lists while their pages go, so that no thread is handed one
    // meanwhile (a block asked for then is carved anew).
    std::vector<std::vector<FreeBlock>> taken;
    {
      std::lock_guard lock(m_mutex);
      m_ahead_over = true;
      taken.swap(m_free);
    }
    for (size_t cls = 0; cls < taken.size(); ++cls) {
      for (FreeBlock& free : taken[cls]) {
        if (!free.released) {
          release_pages(free.at, class_size(cls));
          free.released = true;
        }
      }
    }
    // Back under the blocks freed meanwhile, whose pages are still in.
    std::lock_guard lock(m_mutex);
    if (m_free.size() < taken.size()) {
      m_free.resize(taken.size());
    }
    for (size_t cls = 0; cls < taken.size(); ++cls) {
      m_free[cls].insert(m_free[cls].begin(), taken[cls].begin(), taken[cls].end());
    }
  }

  size_t in_use() {
    std::lock_guard lock(m_mutex);
    return m_in_use;
  }

  size_t size() {
    std::lock_guard lock(m_mutex);
    return m_committed;
  }

 private:
  Arena() {
#ifndef DISTILL_ARENA_OFF
    // Writable from the start, so that growing it is no mprotect(): that
    // takes the address space's lock for writing, and waited 0.3-2.9 ms in
    // traced warm base builds for the other thread's MADV_POPULATE_WRITE or
    // mmap. Where the kernel counts every writable page against a limit
    // (vm.overcommit_memory=2), the region is PROT_NONE until used instead.
    void* region = MAP_FAILED;
    for (int prot : {PROT_READ | PROT_WRITE, PROT_NONE}) {
      region = ::mmap(nullptr, k_reserve + k_grow_step, prot,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (region != MAP_FAILED) {
        m_protected = prot == PROT_NONE;
        break;
      }
    }
    if (region != MAP_FAILED) {
      // Advice (see the header), taken unless the system has none to give.
      m_huge = ::madvise(region, k_reserve + k_grow_step, MADV_HUGEPAGE) == 0 &&
               transparent_huge_pages_on();
      // Each step it grows by is then one huge page.
      const auto at = reinterpret_cast<uintptr_t>(region);
      const uintptr_t skip = ((at + k_grow_step - 1) & ~(k_grow_step - 1)) - at;
      m_base = static_cast<char*>(region) + skip;
    }
#endif
  }

  // A new block at the top of the region (under m_mutex), not yet brought
  // in; nullptr when the region is used up or the kernel refuses more.
  void* carve(size_t cls) {
    const size_t size = class_size(cls);
    if (size > k_reserve - m_top) {
      return nullptr;
    }
    const size_t end = m_top + size;
    if (end > m_committed && !commit((end - m_committed + k_grow_step - 1) & ~(k_grow_step - 1))) {
      return nullptr;
    }
    char* block = m_base + m_top;
    m_class.emplace(m_top, cls);
    m_top = end;
    m_in_use += size;
    return block;
  }

  // Makes `grow` more bytes past m_committed writable (under m_mutex); false
  // when the kernel refuses.
  bool commit(size_t grow) {
    if (m_protected && ::mprotect(m_base + m_committed, grow, PROT_READ | PROT_WRITE) != 0) {
      return false;
    }
    m_committed += grow;
    return true;
  }

  std::mutex m_mutex;
  std::condition_variable m_ahead_done;  // a step brought in ahead is in
  char* m_base = nullptr;                // k_arena_min-aligned; null: no region
  bool m_protected = false;              // PROT_NONE beyond m_committed
  bool m_huge = false;                   // on transparent huge pages
  size_t m_top = 0;                      // bytes carved into blocks
  size_t m_committed = 0;                // bytes made writable
  // Bytes from m_base brought in ahead, step after step from the start.
  size_t m_ready = 0;
  // Where the step being brought in ahead starts, from m_base; none: no step.
  std::optional<size_t> m_ahead;
  size_t m_in_use = 0;
  bool m_ahead_over = false;         // release_free() was called: no growth ahead
  std::map<size_t, size_t> m_class;  // block's offset -> its size class
  // A block given back, and whether its pages were given back too.
  struct FreeBlock {
    void* at;
    bool released;
  };
  std::vector<std::vector<FreeBlock>> m_free;  // size class -> blocks given back
};

}  // namespace

void* arena_allocate(size_t size) {
  if (size < k_arena_min) {
    return std::malloc(size);
  }
  return Arena::instance().allocate(size);
}

void arena_free(void* block) {
  if (block != nullptr && !Arena::instance().release(block)) {
    std::free(block);
  }
}

bool arena_bring_in_ahead(size_t limit) { return Arena::instance().bring_in_ahead(limit); }

void arena_release_free() { Arena::instance().release_free(); }

size_t arena_block_size(size_t size) { return class_size(class_of(size)); }

bool arena_active() { return Arena::instance().active(); }

bool arena_on_huge_pages() { return Arena::instance().on_huge_pages(); }

size_t arena_bytes_in_use() { return Arena::instance().in_use(); }

size_t arena_size() { return Arena::instance().size(); }

}  // namespace distill::util
