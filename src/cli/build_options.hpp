// Flags shared by `build` and `lock`, and their translation into a BuildRequest.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "image/build.hpp"
#include "util/progress.hpp"

namespace distill::cli {

struct BuildOptions {
  std::string spec;
  std::string arch;
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

  // Declares the shared flags on `cmd`.
  void declare(CLI::App& cmd, bool for_build);
  // Validates and fills `request`; the Progress must outlive the request.
  Result<image::BuildRequest> to_request(std::unique_ptr<util::Progress>& progress) const;
};

}  // namespace distill::cli
