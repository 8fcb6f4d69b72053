#include "cli/build_options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "cli/command.hpp"
#include "debian/architecture.hpp"
#include "debian/releases.hpp"
#include "oci/image_ref.hpp"
#include "util/clock.hpp"
#include "util/page_arena.hpp"

namespace distill::cli {

namespace {

Error usage(const std::string& message) {
  return make_error(ErrorKind::InvalidInput, "usage: " + message);
}

util::WorkerPool* g_process_pool = nullptr;  // once made

// The process's one worker pool, sized by the first caller.
util::WorkerPool& process_pool(unsigned jobs) {
  static util::WorkerPool pool(jobs);
  g_process_pool = &pool;
  return pool;
}

Result<std::vector<image::Variant>> parse_variants(const std::string& text) {
  if (text == "all") {
    return std::vector<image::Variant>{image::Variant::Latest, image::Variant::Nonroot,
                                       image::Variant::Debug, image::Variant::DebugNonroot};
  }
  if (text.empty()) {
    return usage("--variant '': no variant");
  }
  std::vector<image::Variant> out;
  DISTILL_TRY(auto names, comma_list("--variant", text));
  for (const auto& name : names) {
    auto variant = image::parse_variant(name);
    if (!variant.ok()) {
      return usage(variant.error().message + " or all");
    }
    if (std::find(out.begin(), out.end(), *variant) != out.end()) {
      return usage("--variant '" + text + "': " + name + " given twice");
    }
    out.push_back(*variant);
  }
  return out;
}

Result<std::vector<std::string>> parse_archs(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) {
    return out;  // not given: the default
  }
  DISTILL_TRY(auto archs, comma_list("--arch", text));
  for (const auto& arch : archs) {
    if (auto known = debian::check_architecture(arch); !known.ok()) {
      return usage("--arch '" + text + "': " + known.error().message);
    }
    if (std::find(out.begin(), out.end(), arch) != out.end()) {
      return usage("--arch '" + text + "': " + arch + " given twice");
    }
    out.push_back(arch);
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> comma_list(std::string_view flag, const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(',', start);
    std::string item = text.substr(start, end == std::string::npos ? end : end - start);
    if (item.empty()) {
      // "amd64," is a slip of the keyboard, not "amd64": said so, as a
      // repeated item is, before anything is done with the list.
      return usage(std::string(flag) + " '" + text +
                   "': " + (text.empty() ? "empty" : "an empty item (a comma too many)"));
    }
    items.push_back(std::move(item));
    if (end == std::string::npos) {
      return items;
    }
    start = end + 1;
  }
}

void BuildOptions::declare(CLI::App& cmd, bool for_build) {
  if (for_build) {
    cmd.add_option("SPEC", specs, "spec files or built-in flavors (one image each)")->required();
  } else {
    cmd.add_option("SPEC", specs, "spec file or built-in flavor")->required()->expected(1);
  }
  cmd.add_option("--arch", arch, "architectures, comma-separated (Debian names: amd64,arm64)");
  cmd.add_option("--release", release,
                 "Debian release of the images and their flavors (" +
                     debian::buildable_releases_text() + "; default: the specs', else the host's)");
  declare_session(cmd);
  if (for_build) {
    cmd.add_option("--variant", variant,
                   "latest|nonroot|debug|debug-nonroot, comma-separated, or all");
    cmd.add_option("--tag", tag, "NAME:TAG (or TAG) of the image");
    cmd.add_option("--lock", lock_file, "install exactly the packages of this lock file");
    cmd.add_flag("--frozen", frozen, "fail when the lock file does not match the spec");
    cmd.add_option("-j,--jobs", jobs, "parallel downloads and layers (default: CPUs)");
    cmd.add_option("--compression", compression, "gzip|zstd")
        ->check(CLI::IsMember({"gzip", "zstd"}));
    cmd.add_option(
        "--source-date-epoch", source_date_epoch,
        "image creation time and mtime of generated files (default $SOURCE_DATE_EPOCH or 0)");
  }
}

void BuildOptions::declare_session(CLI::App& cmd, bool with_refresh) {
  cmd.add_option("--cache-dir", cache_dir, "download and layer cache (default ~/.cache/distill)");
  cmd.add_option("--progress", progress, "auto|plain|none")
      ->check(CLI::IsMember({"auto", "plain", "none"}));
  if (with_refresh) {
    cmd.add_flag("--refresh", refresh,
                 "ask the mirror for its Release files even when a copy is under 5 minutes old");
  }
  cmd.add_flag("--allow-release-rollback", allow_release_rollback,
               "accept a Release older than the newest one seen for its suite");
}

Status check_release_flag(const std::string& release) {
  if (!release.empty() && !debian::is_buildable_release(release)) {
    return usage("--release '" + release + "': not a release distill builds (" +
                 debian::buildable_releases_text() + ")");
  }
  return {};
}

Result<image::BuildRequest> BuildOptions::to_request() const {
  image::BuildRequest request;
  request.specs = specs;
  DISTILL_TRY(request.archs, parse_archs(arch));
  DISTILL_TRY(request.variants, parse_variants(variant));
  if (!tag.empty()) {
    size_t colon = tag.rfind(':');
    if (colon == std::string::npos) {
      request.tag = tag;
    } else if (colon == 0 || colon + 1 == tag.size()) {
      return usage("--tag '" + tag + "': expected NAME:TAG or TAG");
    } else {
      request.name = tag.substr(0, colon);
      request.tag = tag.substr(colon + 1);
    }
    if (auto valid = oci::check_name_and_tag(request.name, request.tag, "--tag '" + tag + "'");
        !valid.ok()) {
      return usage(valid.error().message);
    }
    if (request.specs.size() * request.variants.size() > 1) {
      return usage("--tag '" + tag + "' names one image; with several, use -o placeholders");
    }
  }
  DISTILL_CHECK(check_release_flag(release));
  request.release = release;
  request.lock_file = lock_file;
  request.frozen = frozen;
  if (frozen && lock_file.empty()) {
    return usage("--frozen needs --lock FILE");
  }
  if (!lock_file.empty() && request.specs.size() > 1) {
    return usage("--lock is the lock of one spec; build one spec with it");
  }
  request.jobs = jobs;
  if (refresh) {
    request.release_max_age = 0;
  }
  request.allow_release_rollback = allow_release_rollback;
  DISTILL_TRY(request.compression, archive::parse_compression(compression));
  std::string epoch = source_date_epoch;
  if (epoch.empty()) {
    const char* env = std::getenv("SOURCE_DATE_EPOCH");
    epoch = env != nullptr ? env : "0";
  }
  // Up to 9999-12-31T23:59:59Z: a config's `created` is an RFC 3339 time,
  // whose year has four digits.
  constexpr long long k_last_epoch = 253402300799;
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(epoch.c_str(), &end, 10);
  if (epoch.empty() || *end != '\0' || value < 0 || errno == ERANGE || value > k_last_epoch) {
    return usage("--source-date-epoch '" + epoch + "': expected seconds since 1970, up to " +
                 std::to_string(k_last_epoch) + " (the end of year 9999)");
  }
  request.source_date_epoch = value;
  if (const char* root = std::getenv("DISTILL_APT_ROOT"); root != nullptr && *root != '\0') {
    request.apt_root = root;
  }
  request.default_release = debian::default_release(request.apt_root);
  return request;
}

namespace {

bool g_layer_buffers_started = false;

}  // namespace

void start_bringing_in_layer_buffers(const BuildOptions& options) {
  if (g_layer_buffers_started) {
    return;
  }
  g_layer_buffers_started = true;
  util::WorkerPool& pool = process_pool(options.jobs);
  if (pool.size() < 2) {
    return;  // no thread to spare while the plan is made
  }
  // What the page arena grows to in a warm build of base, python3 or nodejs
  // at two threads: 30-32 MiB (java17: 66 MiB); no more than four threads'
  // worth. Only while the plan is made: once the layers start, each brings
  // in what it takes.
  const size_t limit = size_t{std::min(pool.size(), 4U)} * (size_t{15} << 20);
  for (size_t step = 0; step < limit / util::k_arena_step; ++step) {
    pool.when_idle([&pool, limit] {
      if (!pool.work_came()) {
        util::arena_bring_in_ahead(limit);
      }
    });
  }
}

Result<std::unique_ptr<BuildSession>> BuildSession::open(const BuildOptions& options,
                                                         bool makes_layers) {
  std::unique_ptr<BuildSession> session(new BuildSession());
  session->m_progress = std::make_unique<util::Progress>(parse_progress_mode(options.progress));
  std::filesystem::path dir = options.cache_dir.empty() ? net::default_cache_dir()
                                                        : std::filesystem::path(options.cache_dir);
  DISTILL_TRY(
      auto cache, net::ContentCache::open(dir, net::ContentCache::Sweep::ByCaller, [&] {
        session->m_progress->step("waiting for `distill prune` to finish with " + dir.string());
      }));
  session->m_cache = std::make_unique<net::ContentCache>(std::move(cache));
  session->m_http = net::make_curl_client();
  util::WorkerPool& pool = process_pool(options.jobs);
  if (makes_layers) {
    start_bringing_in_layer_buffers(options);
  }
  // Off the command's path: 0.7 ms of a warm base build's start here.
  pool.when_idle([dir] { net::ContentCache::sweep(dir); });
  session->m_env = std::make_unique<image::BuildEnv>(image::BuildEnv{
      *session->m_http, *session->m_cache, util::system_clock(), *session->m_progress, pool});
  return session;
}

void stop_process_pool() {
  if (g_process_pool != nullptr) {
    g_process_pool->stop();
  }
}

}  // namespace distill::cli
