// distill prune: removes the cache's entries no distill process has used for
// a while (image/cache_prune.hpp says how use is told).
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "image/cache_prune.hpp"
#include "net/content_cache.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace distill::cli {

namespace {

// "30d", "12h", "90m", "45s" or "0" in seconds; a usage error otherwise.
Result<int64_t> parse_unused_for(const std::string& text) {
  const auto usage = [&] {
    return make_error(ErrorKind::InvalidInput,
                      "usage: --unused-for '" + text +
                          "': a whole number of days, hours, minutes or seconds, such as 30d, "
                          "12h, 90m or 0");
  };
  if (text == "0") {
    return int64_t{0};
  }
  if (text.size() < 2) {
    return usage();
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 'd':
      unit = int64_t{24} * 3600;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    case 's':
      unit = 1;
      break;
    default:
      return usage();
  }
  int64_t count = 0;
  const char* end = text.data() + text.size() - 1;
  auto [ptr, ec] = std::from_chars(text.data(), end, count);
  if (ec != std::errc() || ptr != end || count < 0 || count > INT64_MAX / unit) {
    return usage();
  }
  return count * unit;
}

}  // namespace

CommandRunner register_prune(CLI::App& app) {
  auto* cmd = app.add_subcommand("prune", "remove the cache's entries unused for a while");
  auto cache_dir = std::make_shared<std::string>();
  auto unused_for = std::make_shared<std::string>("30d");
  auto all = std::make_shared<bool>(false);
  auto dry_run = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--cache-dir", *cache_dir, "the cache (default ~/.cache/distill)");
  auto* limit =
      cmd->add_option("--unused-for", *unused_for,
                      "remove what no build, copy or pull has used for this long: 30d, 12h, 90m, "
                      "0 (default 30d)");
  cmd->add_flag("--all", *all, "remove every entry (as --unused-for 0)")->excludes(limit);
  cmd->add_flag("--dry-run", *dry_run, "list what would be removed, and remove nothing");
  cmd->add_flag("--json", *json, "print the result as JSON on stdout");
  return [=]() -> Result<int> {
    image::PruneOptions options;
    DISTILL_TRY(options.unused_for, parse_unused_for(*all ? "0" : *unused_for));
    options.dry_run = *dry_run;
    const std::filesystem::path dir =
        cache_dir->empty() ? net::default_cache_dir() : std::filesystem::path(*cache_dir);
    DISTILL_TRY(const image::PruneResult result,
                image::prune_cache(dir, options, util::system_clock()));
    const image::PruneCount total = result.total();
    if (*json) {
      nlohmann::json kinds = nlohmann::json::array();
      for (const auto& kind : result.kinds) {
        kinds.push_back({{"kind", kind.kind},
                         {"removedFiles", kind.removed_files},
                         {"removedBytes", kind.removed_bytes},
                         {"keptFiles", kind.kept_files},
                         {"keptBytes", kind.kept_bytes}});
      }
      nlohmann::json out{{"cacheDir", dir.string()},
                         {"dryRun", options.dry_run},
                         {"unusedForSeconds", options.unused_for},
                         {"kinds", kinds},
                         {"removedFiles", total.removed_files},
                         {"removedBytes", total.removed_bytes},
                         {"keptFiles", total.kept_files},
                         {"keptBytes", total.kept_bytes}};
      if (options.dry_run) {
        out["wouldRemove"] = result.removed;
      }
      std::printf("%s\n", out.dump(2).c_str());
      return k_exit_ok;
    }
    if (options.dry_run) {
      for (const auto& path : result.removed) {
        std::printf("would remove %s\n", path.c_str());
      }
    }
    std::printf("%s %llu files (%s) of %s; kept %llu (%s)\n",
                options.dry_run ? "would remove" : "removed",
                static_cast<unsigned long long>(total.removed_files),
                util::human_size(total.removed_bytes).c_str(), dir.string().c_str(),
                static_cast<unsigned long long>(total.kept_files),
                util::human_size(total.kept_bytes).c_str());
    return k_exit_ok;
  };
}

}  // namespace distill::cli
