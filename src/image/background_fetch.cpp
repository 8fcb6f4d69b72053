// See background_fetch.hpp.
#include "image/background_fetch.hpp"

#include <utility>

#include "util/thread_pool.hpp"

namespace distill::image {

BackgroundFetch::BackgroundFetch(net::ContentCache& cache, net::HttpClient& http,
                                 std::vector<net::FetchItem> items, unsigned jobs,
                                 std::function<void(const net::FetchProgress&)> progress)
    : m_cache(cache) {
  for (const auto& item : items) {
    m_wanted.insert(item.sha256);
  }
  m_thread = util::named_thread("distill-fetch", [this, &http, items = std::move(items), jobs,
                                                  progress = std::move(progress)] {
    Status result = m_cache.fetch_all(http, items, jobs, progress,
                                      [this](const net::FetchItem& item, const Status& outcome) {
                                        std::lock_guard<std::mutex> lock(m_mutex);
                                        if (!outcome.ok()) {
                                          m_failed.emplace(item.sha256, outcome.error());
                                        }
                                        ++m_changes;
                                        m_changed.notify_all();
                                      });
    std::lock_guard<std::mutex> lock(m_mutex);
    m_result = std::move(result);
    m_done = true;
    ++m_changes;
    m_changed.notify_all();
  });
}

BackgroundFetch::~BackgroundFetch() {
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

bool BackgroundFetch::covers(const crypto::Digest& digest) const {
  return m_wanted.count(digest) != 0;
}

Status BackgroundFetch::wait(const crypto::Digest& digest, const std::function<bool()>& meanwhile) {
  if (!covers(digest)) {
    return {};
  }
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    if (m_cache.contains(digest)) {
      return {};
    }
    if (auto failed = m_failed.find(digest); failed != m_failed.end()) {
      return failed->second;
    }
    if (m_done) {
      // Not transferred and not reported: the whole fetch failed before it
      // (an item without a URL or digest).
      if (!m_result.ok()) {
        return m_result;
      }
      return make_error(ErrorKind::Internal, digest.str() + ": not fetched");
    }
    const uint64_t seen = m_changes;
    bool helped = false;
    if (meanwhile) {
      lock.unlock();
      helped = meanwhile();
      lock.lock();
    }
    if (!helped) {
      m_changed.wait(lock, [&] { return m_changes != seen; });
    }
  }
}

}  // namespace distill::image
