// BuildEnv: what the build pipeline is handed instead of reaching for it: the
// HTTP client, the content cache, the clock, the progress sink and the worker
// pool. Nothing in src/image/ makes a curl client or reads the wall clock; the
// CLI builds the real environment once per process, tests a fake one.
#pragma once

#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "util/clock.hpp"
#include "util/progress.hpp"
#include "util/worker_pool.hpp"

namespace distill::image {

struct BuildEnv {
  net::HttpClient& http;
  net::ContentCache& cache;
  const util::Clock& clock;
  util::Progress& progress;
  util::WorkerPool& pool;  // every layer of every image runs here
};

}  // namespace distill::image
