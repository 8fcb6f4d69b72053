// BackgroundFetch: a build's .debs downloading on their own thread while the
// layers of stages whose packages are already here are being assembled.
//
// A cold build resolves every stage first, so it knows every .deb before it
// assembles anything. Fetching them all at once, in stage order, and letting
// each stage wait only for its own packages overlaps the transfers of later
// stages (java17's 44 MB JDK) with the layer work of earlier ones (static,
// base-nossl). The cache's guarantees are unchanged: an item is visible only
// once verified.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "net/content_cache.hpp"
#include "net/http_client.hpp"

namespace distill::image {

class BackgroundFetch {
 public:
  // Starts the transfers at once. `progress` is called from the transfer thread.
  BackgroundFetch(net::ContentCache& cache, net::HttpClient& http,
                  std::vector<net::FetchItem> items, unsigned jobs,
                  std::function<void(const net::FetchProgress&)> progress = {});
  ~BackgroundFetch();  // waits for the transfers still running
  BackgroundFetch(const BackgroundFetch&) = delete;
  BackgroundFetch& operator=(const BackgroundFetch&) = delete;

  // Whether `digest` is one of the items this fetch is bringing in.
  [[nodiscard]] bool covers(const crypto::Digest& digest) const;
  // Blocks until the item is in the cache (OK) or its transfer failed (that
  // error, naming the package and URL). OK at once for a digest it does not
  // cover: that one is not this fetch's to bring. Before each sleep it calls
  // `meanwhile` (the worker pool's help(): a layer waiting for its next .deb
  // compresses other layers' chunks), and sleeps only when that found
  // nothing to do.
  Status wait(const crypto::Digest& digest, const std::function<bool()>& meanwhile = {});

 private:
  net::ContentCache& m_cache;
  std::set<crypto::Digest> m_wanted;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  uint64_t m_changes = 0;  // items done (and the end), counted under m_mutex
  std::map<crypto::Digest, Error> m_failed;
  bool m_done = false;
  Status m_result;
  std::thread m_thread;
};

}  // namespace distill::image
