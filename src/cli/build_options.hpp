// Flags shared by `build` and `lock`, their translation into a BuildRequest,
// and the build environment (env.hpp) a command runs in.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/build.hpp"
#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "util/progress.hpp"
#include "util/worker_pool.hpp"

namespace distill::cli {

struct BuildOptions {
  std::vector<std::string> specs;
  std::string arch;
  std::string release;  // --release
  std::string variant = "latest";
  std::string tag;
  std::string lock_file;
  bool frozen = false;
  std::string cache_dir;
  unsigned jobs = 0;
  std::string compression = "gzip";
  std::string source_date_epoch;
  std::string progress = "auto";
  bool refresh = false;
  bool allow_release_rollback = false;

  // Declares the shared flags on `cmd` (`build` takes several specs).
  void declare(CLI::App& cmd, bool for_build);
  // Declares the flags of the session every command that reads the cache and
  // the mirror takes: --cache-dir, --progress, --allow-release-rollback and,
  // with `refresh`, --refresh.
  void declare_session(CLI::App& cmd, bool refresh = true);
  // Validates the flags (usage errors name the value) and fills a request.
  [[nodiscard]] Result<image::BuildRequest> to_request() const;
};

// The items of a comma-separated flag value ("amd64,arm64"); an empty one
// ("amd64,", ",amd64", "a,,b", "") is a usage error naming `flag` and `text`.
Result<std::vector<std::string>> comma_list(std::string_view flag, const std::string& text);

// A --release value: "" or a release distill builds; else a usage error
// naming it and the releases there are.
Status check_release_flag(const std::string& release);

// Ends the process's worker pool, if one was made, once what its threads
// run is done (a cache sweep queued for idle time may still be running when
// a command returns). main() calls it before the process's statics go: a
// thread of the pool may use them, and the pool, made after some of them,
// would otherwise be destroyed after them.
void stop_process_pool();

// For a command that makes layers, as soon as its options are read: the
// process's pool is made, and its thread that would wait while the specs are
// loaded and the plan is made brings in the buffers the first layers want
// (util/page_arena.hpp); BuildSession::open(..., true) does it otherwise.
// In warm base builds traced here that was 1.3-1.4 ms sooner (medians: the
// options read 4.5 ms after exec, the cache open at 5.8-5.9 ms), while the
// other CPU was idle. Once per process.
void start_bringing_in_layer_buffers(const BuildOptions& options);

// The real environment: curl, the cache on disk, the system clock, progress
// on stderr and the process's one worker pool.
class BuildSession {
 public:
  // `makes_layers`: for a command that makes layers, the buffers its first
  // layers want are brought in while the plan is made, by the thread of the
  // pool that waits meanwhile (util/page_arena.hpp), before the cache's sweep.
  static Result<std::unique_ptr<BuildSession>> open(const BuildOptions& options,
                                                    bool makes_layers = false);
  image::BuildEnv& env() { return *m_env; }
  util::Progress& progress() { return *m_progress; }

 private:
  BuildSession() = default;
  std::unique_ptr<util::Progress> m_progress;
  std::unique_ptr<net::HttpClient> m_http;
  std::unique_ptr<net::ContentCache> m_cache;
  std::unique_ptr<image::BuildEnv> m_env;
};

}  // namespace distill::cli
