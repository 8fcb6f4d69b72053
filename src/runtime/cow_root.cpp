// CowRoot: see cow_root.hpp. overlayfs options are a comma-separated list, so a
// path holding ',' ':' or '\' cannot be given; that is reported like a refusal.
// The upper directory is thrown away, so it is mounted `volatile` where the
// kernel allows.
#include "runtime/cow_root.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/file_io.hpp"
#include "util/subprocess.hpp"

namespace distill::runtime {

namespace fs = std::filesystem;

namespace {

Status make_dir_like(const fs::path& dir, const fs::path& model) {
  struct stat st {};
  if (::stat(model.c_str(), &st) != 0) {
    return util::errno_error(model, errno);
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return util::errno_error(dir, errno);
  }
  if (::chown(dir.c_str(), st.st_uid, st.st_gid) != 0 ||
      ::chmod(dir.c_str(), st.st_mode & 07777) != 0) {
    Error error = util::errno_error(dir, errno);
    ::rmdir(dir.c_str());
    return error;
  }
  return {};
}

// Removes everything inside `dir`, keeping `dir`.
Status empty_dir(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    DISTILL_CHECK(util::remove_tree(it->path()));
  }
  if (ec) {
    return make_error(ErrorKind::Io, dir.string() + ": " + ec.message());
  }
  return {};
}

Status mount_overlay(const fs::path& lower, const fs::path& scratch, const fs::path& target) {
  for (const auto* path : {&lower, &scratch}) {
    if (path->string().find_first_of(",:\\") != std::string::npos) {
      return make_error(ErrorKind::Unsupported,
                        "overlay mount: " + path->string() + " holds ',', ':' or '\\'");
    }
  }
  const fs::path upper = scratch / "upper";
  const fs::path work = scratch / "work";
  // The view's root directory is the upper one: give it the original's owner and mode.
  DISTILL_CHECK(make_dir_like(upper, lower));
  if (::mkdir(work.c_str(), 0700) != 0) {
    Error error = util::errno_error(work, errno);
    (void)util::remove_tree(upper);
    return error;
  }
  const std::string options =
      "lowerdir=" + lower.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
  // `volatile` (Linux 5.10+): no sync of the upper filesystem at unmount. Without
  // it, unmounting writes back everything dirty on that filesystem, the freshly
  // unpacked image included, which then costs real I/O to delete (on java17 the
  // final cleanup took 4.4 s instead of 0.8 s). Older kernels refuse the option.
  int mounted = ::mount("overlay", target.c_str(), "overlay", 0, (options + ",volatile").c_str());
  if (mounted != 0 && errno == EINVAL) {
    mounted = ::mount("overlay", target.c_str(), "overlay", 0, options.c_str());
  }
  if (mounted != 0) {
    const int err = errno;
    (void)util::remove_tree(upper);
    (void)util::remove_tree(work);
    return make_error(ErrorKind::Unsupported,
                      "overlay mount on " + target.string() + ": " + std::strerror(err));
  }
  return {};
}

Status copy_tree(const fs::path& lower, const fs::path& target) {
  DISTILL_TRY(auto result, util::run_command({{"cp", "-a", "--reflink=auto", "--",
                                               (lower / ".").string(), target.string()}}));
  if (result.exit_code != 0) {
    std::string why = result.stderr_data;
    while (!why.empty() && why.back() == '\n') {
      why.pop_back();
    }
    (void)empty_dir(target);
    return make_error(ErrorKind::Io,
                      "copying " + lower.string() + " to " + target.string() + " failed: " + why);
  }
  return {};
}

}  // namespace

Result<CowRoot> CowRoot::create(const fs::path& lower, const fs::path& scratch,
                                const fs::path& target, Method method) {
  if (method == Method::Copy) {
    DISTILL_CHECK(copy_tree(lower, target));
    return CowRoot(scratch, target, method, {});
  }
  // Registered before it exists: a signal between the mount and the
  // registration would leave it mounted.
  util::CleanupRegistration mounted(target, util::CleanupKind::Mount);
  DISTILL_CHECK(mount_overlay(lower, scratch, target));
  return CowRoot(scratch, target, method, std::move(mounted));
}

CowRoot::CowRoot(CowRoot&& other) noexcept
    : m_scratch(std::move(other.m_scratch)),
      m_target(std::move(other.m_target)),
      m_method(other.m_method),
      m_mounted(std::move(other.m_mounted)) {
  other.m_target.clear();
}

CowRoot& CowRoot::operator=(CowRoot&& other) noexcept {
  if (this != &other) {
    (void)release();
    m_scratch = std::move(other.m_scratch);
    m_target = std::move(other.m_target);
    m_method = other.m_method;
    m_mounted = std::move(other.m_mounted);
    other.m_target.clear();
  }
  return *this;
}

CowRoot::~CowRoot() { (void)release(); }

Status CowRoot::release() {
  if (m_target.empty()) {
    return {};
  }
  const fs::path target = m_target;
  if (m_method == Method::Overlay) {
    if (::umount2(target.c_str(), 0) != 0 && ::umount2(target.c_str(), MNT_DETACH) != 0) {
      return util::errno_error(target, errno);
    }
    m_mounted.release();
    m_target.clear();
    DISTILL_CHECK(util::remove_tree(m_scratch / "upper"));
    return util::remove_tree(m_scratch / "work");
  }
  m_target.clear();
  return empty_dir(target);
}

}  // namespace distill::runtime
