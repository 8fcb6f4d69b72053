// BundleExecutor: see container_exec.hpp. The runc invocation mirrors
// runtime::run_bundle (private --root, --log, --pid-file) but captures the
// container's output instead of passing it through. `runc run` removes its
// container when it ends; `delete -f` runs only when its state is still there (a
// runtime killed half-way), which spares a runtime start on every command.
#include "check/container_exec.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <initializer_list>
#include <utility>

#include "runtime/bundle.hpp"
#include "runtime/rootfs_unpacker.hpp"
#include "runtime/run_image.hpp"
#include "runtime/runner.hpp"
#include "util/file_io.hpp"
#include "util/interrupt_cleanup.hpp"
#include "util/subprocess.hpp"

namespace distill::check {

BundleExecutor::BundleExecutor(std::vector<std::filesystem::path> layer_files,
                               oci::ImageConfig config, util::Progress& progress, Method method)
    : m_layers(std::move(layer_files)),
      m_config(std::move(config)),
      m_progress(&progress),
      m_method(method) {}

BundleExecutor::~BundleExecutor() { m_view.reset(); }

Status BundleExecutor::reset() {
  if (!m_view) {
    return {};
  }
  Status released = m_view->release();
  m_view.reset();
  return released;
}

Status BundleExecutor::prepare() {
  if (!m_work) {
    const std::filesystem::path parent = runtime::bundle_parent();
    // Those of killed runs (a TempDir is locked while its owner lives), their
    // overlay detached if still mounted.
    util::sweep_abandoned(parent, "distill-test-");
    DISTILL_TRY(util::TempDir work, util::TempDir::create("distill-test-", parent));
    // The bundle must be traversable by the container's user.
    const std::filesystem::path& dir = work.path();
    for (const auto& [path, mode] : std::initializer_list<std::pair<std::filesystem::path, mode_t>>{
             {dir, 0711},
             {dir / "base", 0755},
             {dir / "bundle", 0711},
             {dir / "bundle" / "rootfs", 0755},
             {dir / "scratch", 0700}}) {
      if (path != dir && ::mkdir(path.c_str(), mode) != 0) {
        return util::errno_error(path, errno);
      }
      if (::chmod(path.c_str(), mode) != 0) {
        return util::errno_error(path, errno);
      }
    }
    DISTILL_CHECK(runtime::unpack_layers(m_layers, dir / "base"));
    m_work = std::move(work);
  }
  if (m_view) {
    return {};
  }
  const std::filesystem::path& dir = m_work->path();
  auto view =
      runtime::CowRoot::create(dir / "base", dir / "scratch", dir / "bundle" / "rootfs", m_method);
  if (!view.ok() && m_method == Method::Overlay) {
    m_progress->step("command tests: " + view.error().message +
                     "; copying the image's root filesystem for each test instead");
    m_method = Method::Copy;
    view = runtime::CowRoot::create(dir / "base", dir / "scratch", dir / "bundle" / "rootfs",
                                    m_method);
  }
  if (!view.ok()) {
    return std::move(view).error();
  }
  if (!m_announced && m_method == Method::Overlay) {
    m_progress->step("command tests: image unpacked once, each test runs on a fresh overlay view");
  }
  m_announced = true;
  m_view.emplace(std::move(*view));
  return {};
}

Result<ExecResult> BundleExecutor::exec(const ExecRequest& request) {
  std::filesystem::path runtime_path = runtime::find_oci_runtime();
  if (runtime_path.empty()) {
    return make_error(ErrorKind::NotFound,
                      "no OCI runtime: neither runc nor crun is installed (apt-get install runc)");
  }
  DISTILL_CHECK(prepare());
  runtime::RunRequest run;
  run.config = m_config;
  run.env_overrides = request.env;
  run.user = request.user;
  // CST's containers reach the network (docker's default bridge); the host's is
  // the nearest runc gives without a network setup of its own.
  run.network = runtime::RunOptions::Network::Host;
  if (!request.argv.empty()) {
    run.entrypoint = std::vector<std::string>{request.argv.front()};
    run.args.assign(request.argv.begin() + 1, request.argv.end());
  }
  runtime::RunOptions options = runtime::run_options_for(run);
  if (options.args.empty()) {
    return make_error(
        ErrorKind::InvalidInput,
        "no command to run: the image has no entrypoint or cmd and the test gives none");
  }
  DISTILL_CHECK(runtime::write_bundle_config(options, (m_work->path() / "bundle")));

  DISTILL_TRY(util::TempDir state, util::TempDir::create("distill-runc-"));
  const std::string id = runtime::make_container_id();
  const std::filesystem::path log_file = state.path() / "runtime.log";
  const std::filesystem::path pid_file = state.path() / "container.pid";
  util::Command command{{runtime_path.string(), "--root", state.path().string(), "--log",
                         log_file.string(), "run", "--bundle", (m_work->path() / "bundle").string(),
                         "--pid-file", pid_file.string(), id}};
  auto result = util::run_command(command);
  if (std::filesystem::exists(state.path() / id)) {
    util::Command remove{
        {runtime_path.string(), "--root", state.path().string(), "delete", "-f", id}};
    (void)util::run_command(remove);
  }
  if (!result.ok()) {
    return std::move(result).error();
  }
  if (!std::filesystem::exists(pid_file) && result->exit_code != 0) {
    auto log = util::read_file(log_file);
    std::string why = log.ok() ? *log : result->stderr_data;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
      why.pop_back();
    }
    size_t last = why.rfind('\n');
    if (last != std::string::npos) {
      why = why.substr(last + 1);
    }
    return make_error(ErrorKind::Io,
                      runtime_path.filename().string() + " could not start the container: " + why);
  }
  return ExecResult{result->exit_code, std::move(result->stdout_data),
                    std::move(result->stderr_data)};
}

}  // namespace distill::check
