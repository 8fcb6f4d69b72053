// KeptObjects<T>: objects kept between uses because making them again costs
// more than keeping them (an xz decoder's dictionary, a compressor's tables, a
// chunk's buffers: fresh pages to fault in and clear). Any thread takes one
// and gives it back; at most `cap` are kept, the newest first out; release()
// drops them all at once (a build does once its layers are made, so that
// their pages go back before the process's exit; util/page_arena.hpp).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace distill::util {

template <class T>
class KeptObjects {
 public:
  explicit KeptObjects(size_t cap) : m_cap(cap) {}
  KeptObjects(const KeptObjects&) = delete;
  KeptObjects& operator=(const KeptObjects&) = delete;

  // The most recently given back object for which `fits(object)` is true;
  // none when no kept one fits.
  template <class Fits>
  std::optional<T> take(Fits fits) {
    std::lock_guard lock(m_mutex);
    for (size_t i = m_kept.size(); i-- > 0;) {
      if (fits(m_kept[i])) {
        T object = std::move(m_kept[i]);
        m_kept.erase(m_kept.begin() + static_cast<std::ptrdiff_t>(i));
        return object;
      }
    }
    return std::nullopt;
  }
  std::optional<T> take() {
    return take([](const T&) { return true; });
  }

  // The kept object of the lowest `cost(object)` (of equals, the most
  // recently given back); none when none is kept.
  template <class Cost>
  std::optional<T> take_cheapest(Cost cost) {
    std::lock_guard lock(m_mutex);
    if (m_kept.empty()) {
      return std::nullopt;
    }
    size_t best = m_kept.size() - 1;
    auto best_cost = cost(m_kept[best]);
    for (size_t i = best; i-- > 0;) {
      if (auto c = cost(m_kept[i]); c < best_cost) {
        best = i;
        best_cost = c;
      }
    }
    T object = std::move(m_kept[best]);
    m_kept.erase(m_kept.begin() + static_cast<std::ptrdiff_t>(best));
    return object;
  }

  // Kept for the next take(), unless `cap` are kept already (then dropped,
  // after the lock is let go).
  void give(T object) {
    std::lock_guard lock(m_mutex);
    if (m_kept.size() < m_cap) {
      m_kept.push_back(std::move(object));
    }
  }

  // Drops every kept object (destroyed after the lock is let go).
  void release() {
    std::vector<T> dropped;
    std::lock_guard lock(m_mutex);
    dropped.swap(m_kept);
  }

 private:
  const size_t m_cap;
  std::mutex m_mutex;
  std::vector<T> m_kept;
};

}  // namespace distill::util
