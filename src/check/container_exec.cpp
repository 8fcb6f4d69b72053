// BundleExecutor: see container_exec.hpp. The runc invocation mirrors
// runtime::run_bundle (private --root, --log, --pid-file, delete -f afterwards)
// but captures the container's output instead of passing it through.
#include "check/container_exec.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "runtime/bundle.hpp"
#include "runtime/rootfs_unpacker.hpp"
#include "runtime/run_image.hpp"
#include "runtime/runner.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"

namespace distill::check {

BundleExecutor::BundleExecutor(std::vector<std::filesystem::path> layer_files,
                               oci::ImageConfig config)
    : m_layers(std::move(layer_files)), m_config(std::move(config)) {}

BundleExecutor::~BundleExecutor() = default;

Status BundleExecutor::reset() {
  m_bundle.reset();
  return {};
}

Status BundleExecutor::prepare() {
  if (m_bundle) {
    return {};
  }
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path parent = (tmp != nullptr && *tmp != '\0') ? tmp : "/var/tmp";
  DISTILL_TRY(util::TempDir bundle, util::TempDir::create("distill-test-", parent));
  if (::chmod(bundle.path().c_str(), 0711) != 0) {
    return util::errno_error(bundle.path(), errno);
  }
  const std::filesystem::path rootfs = bundle.path() / "rootfs";
  if (::mkdir(rootfs.c_str(), 0755) != 0) {
    return util::errno_error(rootfs, errno);
  }
  DISTILL_CHECK(runtime::unpack_layers(m_layers, rootfs));
  m_bundle = std::move(bundle);
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
  DISTILL_CHECK(runtime::write_bundle_config(options, m_bundle->path()));

  DISTILL_TRY(util::TempDir state, util::TempDir::create("distill-runc-"));
  const std::string id = runtime::make_container_id();
  const std::filesystem::path log_file = state.path() / "runtime.log";
  const std::filesystem::path pid_file = state.path() / "container.pid";
  util::Command command{{runtime_path.string(), "--root", state.path().string(), "--log",
                         log_file.string(), "run", "--bundle", m_bundle->path().string(),
                         "--pid-file", pid_file.string(), id}};
  auto result = util::run_command(command);
  util::Command remove{
      {runtime_path.string(), "--root", state.path().string(), "delete", "-f", id}};
  (void)util::run_command(remove);
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
