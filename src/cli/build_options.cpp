#include "cli/build_options.hpp"

#include <cstdlib>

#include "cli/command.hpp"

namespace distill::cli {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (end > start) {
      out.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

Error usage(const std::string& message) {
  return make_error(ErrorKind::InvalidInput, "usage: " + message);
}

}  // namespace

void BuildOptions::declare(CLI::App& cmd, bool for_build) {
  cmd.add_option("SPEC", spec, "spec file or built-in flavor")->required();
  cmd.add_option("--arch", arch, "architectures, comma-separated (Debian names: amd64,arm64)");
  cmd.add_option("--cache-dir", cache_dir, "download and layer cache (default ~/.cache/distill)");
  cmd.add_option("--progress", progress, "auto|plain|none")
      ->check(CLI::IsMember({"auto", "plain", "none"}));
  cmd.add_flag("--refresh", refresh,
               "ask the mirror for its Release files even when a copy is under 5 minutes old");
  if (for_build) {
    cmd.add_option("--variant", variant, "latest|nonroot|debug|debug-nonroot");
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

Result<image::BuildRequest> BuildOptions::to_request(
    std::unique_ptr<util::Progress>& progress_out) const {
  image::BuildRequest request;
  request.spec = spec;
  request.archs = split(arch, ',');
  DISTILL_TRY(request.variant, image::parse_variant(variant));
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
  }
  request.lock_file = lock_file;
  request.frozen = frozen;
  if (frozen && lock_file.empty()) {
    return usage("--frozen needs --lock FILE");
  }
  request.cache_dir = cache_dir;
  request.jobs = jobs;
  if (refresh) {
    request.release_max_age = 0;
  }
  DISTILL_TRY(request.compression, archive::parse_compression(compression));
  std::string epoch = source_date_epoch;
  if (epoch.empty()) {
    const char* env = std::getenv("SOURCE_DATE_EPOCH");
    epoch = env != nullptr ? env : "0";
  }
  char* end = nullptr;
  long long value = std::strtoll(epoch.c_str(), &end, 10);
  if (epoch.empty() || *end != '\0' || value < 0) {
    return usage("--source-date-epoch '" + epoch + "': expected seconds since 1970");
  }
  request.source_date_epoch = value;
  if (const char* root = std::getenv("DISTILL_APT_ROOT"); root != nullptr && *root != '\0') {
    request.apt_root = root;
  }
  progress_out = std::make_unique<util::Progress>(parse_progress_mode(progress));
  request.progress = progress_out.get();
  return request;
}

}  // namespace distill::cli
