// BundleExecutor: see container_exec.hpp. The container runs through
// runtime::run_bundle, its stdout and stderr going to two memfds.
#include "check/container_exec.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

#include "runtime/bundle.hpp"
#include "runtime/rootfs_unpacker.hpp"
#include "runtime/run_image.hpp"
#include "runtime/runner.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/interrupt_cleanup.hpp"

namespace distill::check {

namespace {

// An anonymous in-memory file for one of the container's streams.
Result<util::Fd> captured_stream(const char* name) {
  util::Fd fd(::memfd_create(name, MFD_CLOEXEC));
  if (!fd.valid()) {
    return make_error(ErrorKind::Io, std::string("memfd_create: ") + std::strerror(errno));
  }
  return fd;
}

// What the container wrote to a captured stream.
Result<std::string> read_captured(const util::Fd& fd) {
  return util::read_file("/proc/self/fd/" + std::to_string(fd.get()));
}

}  // namespace

BundleExecutor::BundleExecutor(std::vector<std::filesystem::path> layer_files,
                               oci::ImageConfig config, util::Progress& progress, Method method,
                               std::string image)
    : m_layers(std::move(layer_files)),
      m_config(std::move(config)),
      m_image(std::move(image)),
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
    runtime::UnpackOptions unpack;
    unpack.diff_ids = m_config.diff_ids;
    unpack.image = m_image;
    DISTILL_CHECK(runtime::unpack_layers(m_layers, dir / "base", unpack));
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
  DISTILL_CHECK(runtime::require_oci_runtime());  // before the image is unpacked
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
  const std::filesystem::path bundle = m_work->path() / "bundle";
  DISTILL_CHECK(runtime::write_bundle_config(options, bundle));

  DISTILL_TRY(util::Fd out, captured_stream("stdout"));
  DISTILL_TRY(util::Fd err, captured_stream("stderr"));
  runtime::Stdio stdio;
  stdio.output = out.get();
  stdio.error = err.get();
  int stop = 0;
  auto status = runtime::run_bundle(bundle, runtime::make_container_id(), stdio, &stop);
  if (stop != 0) {
    // Ctrl-C or SIGTERM while the container ran: run_bundle stopped it. Then
    // the run ends as the signal asks, with the view unmounted and the
    // unpacked image removed first.
    m_view.reset();
    m_work.reset();
    (void)::raise(stop);
  }
  if (!status.ok()) {
    return std::move(status).error();
  }
  DISTILL_TRY(std::string stdout_data, read_captured(out));
  DISTILL_TRY(std::string stderr_data, read_captured(err));
  return ExecResult{*status, std::move(stdout_data), std::move(stderr_data)};
}

}  // namespace distill::check
