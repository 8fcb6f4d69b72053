// BuildEnv: what the build pipeline is handed instead of reaching for it: the
// HTTP client, the content cache, the clock, the progress sink and the worker
// pool. Nothing in src/image/ makes a curl client or reads the wall clock; the
// CLI builds the real environment once per process, tests a fake one.
#pragma once

#include <functional>

#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "util/clock.hpp"
#include "util/interrupt.hpp"
#include "util/progress.hpp"
#include "util/worker_pool.hpp"

namespace distill::image {

struct BuildEnv {
  net::HttpClient& http;
  net::ContentCache& cache;
  const util::Clock& clock;
  util::Progress& progress;
  util::WorkerPool& pool;  // every layer of every image runs here
  // Asked before each layer starts and before the outputs are written: true
  // stops the build (Ctrl-C by default).
  std::function<bool()> stop_requested = util::interrupted;

  // An error once a stop was asked for: nothing more may be written.
  [[nodiscard]] Status check_not_stopped() const {
    if (stop_requested && stop_requested()) {
      return make_error(ErrorKind::Io, "interrupted");
    }
    return {};
  }
};

}  // namespace distill::image
