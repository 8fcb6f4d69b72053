// Running a command in an image and capturing what it prints: the command tests of
// `distill test` need stdout, stderr and the exit status separately, which
// runtime::run_image (output passed through) does not give.
//
// BundleExecutor unpacks the image's layers once (runtime::unpack_layers) into a
// private directory and gives every fresh container a copy-on-write view of it
// (runtime::CowRoot: an overlay mount, or a copy where the kernel refuses one,
// said once on the progress output), so a command test costs one runc start, not
// an unpack. config.json comes from runtime::write_bundle_config (docker
// semantics from runtime::run_options_for); the container runs through
// runtime::run_bundle with both streams captured. The view persists across
// exec() calls until reset(), so a test's setup commands affect its command.
//
// A stop signal (SIGINT, SIGTERM, SIGHUP) while a container runs is forwarded to
// it as `distill run` does (runtime/runner.hpp); once it has stopped, exec()
// unmounts the view, removes the unpacked image and raises the signal again, so
// the process ends by it as it would have at any other moment.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci/image_config.hpp"
#include "runtime/cow_root.hpp"
#include "util/progress.hpp"
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
  using Method = runtime::CowRoot::Method;
  // `method` is the first way tried for each fresh view (Overlay falls back to
  // Copy for good at the first refusal); `progress` gets that one line. The
  // layers are checked against the config's diff_ids as they are unpacked;
  // `image` names the image in errors.
  BundleExecutor(std::vector<std::filesystem::path> layer_files, oci::ImageConfig config,
                 util::Progress& progress = util::quiet_progress(), Method method = Method::Overlay,
                 std::string image = {});
  BundleExecutor(const BundleExecutor&) = delete;
  BundleExecutor& operator=(const BundleExecutor&) = delete;
  ~BundleExecutor() override;
  Result<ExecResult> exec(const ExecRequest& request) override;
  Status reset() override;
  // How the views are made now.
  [[nodiscard]] Method method() const { return m_method; }

 private:
  Status prepare();

  std::vector<std::filesystem::path> m_layers;
  oci::ImageConfig m_config;
  std::string m_image;
  util::Progress* m_progress;
  Method m_method;
  bool m_announced = false;  // the progress line about views is said once
  // <work>/base: the unpacked image; <work>/bundle: config.json and rootfs/ (the
  // view); <work>/scratch: the overlay's upper and work directories.
  std::optional<util::TempDir> m_work;
  std::optional<runtime::CowRoot> m_view;  // declared after m_work: released first
};

}  // namespace distill::check
