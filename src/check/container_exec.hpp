// Running a command in an image and capturing what it prints: the command tests of
// `distill test` need stdout, stderr and the exit status separately, which
// runtime::run_image (output passed through) does not give.
//
// BundleExecutor unpacks the image's layers into a private OCI runtime bundle with
// runtime::unpack_layers, writes config.json with runtime::write_bundle_config
// (docker semantics from runtime::run_options_for) and runs `runc --root <private
// state> run --bundle <bundle> <id>` with util::run_command, which captures both
// streams; the container is deleted afterwards. The root filesystem persists across
// exec() calls until reset(), so a test's setup commands affect its command.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci/image_config.hpp"
#include "util/result.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {

struct ExecResult {
  int exit_code = 0;
  std::string stdout_data;
  std::string stderr_data;
};

struct ExecRequest {
  // Replaces the image's entrypoint and cmd entirely when set (a CST `command`).
  std::vector<std::string> argv;
  std::vector<std::string> env;  // K=V overrides on top of the image's env
  std::string user;              // "" = the image's
};

class CommandExecutor {
 public:
  virtual ~CommandExecutor() = default;
  virtual Result<ExecResult> exec(const ExecRequest& request) = 0;
  // Drops every change made by earlier exec() calls (a fresh container).
  virtual Status reset() = 0;
};

class BundleExecutor final : public CommandExecutor {
 public:
  BundleExecutor(std::vector<std::filesystem::path> layer_files, oci::ImageConfig config);
  ~BundleExecutor() override;
  Result<ExecResult> exec(const ExecRequest& request) override;
  Status reset() override;

 private:
  Status prepare();

  std::vector<std::filesystem::path> m_layers;
  oci::ImageConfig m_config;
  std::optional<util::TempDir> m_bundle;
};

}  // namespace distill::check
