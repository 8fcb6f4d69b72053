// RootDir: see root_dir.hpp. The manual walk mirrors openat2(2) RESOLVE_IN_ROOT:
// a stack of directory descriptors, ".." pops (never past the root), a symlink's
// target is spliced in front of the remaining components, an absolute target
// restarts at the root, and at most k_max_symlinks links are followed.
#include "runtime/root_dir.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>

#include "util/file_io.hpp"

namespace distill::runtime {

namespace {

constexpr int k_max_symlinks = 40;

std::atomic<bool> g_openat2_missing{false};

Error path_error(const std::string& path, int err) {
  ErrorKind kind = err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io;
  return make_error(kind, "/" + path + ": " + std::strerror(err));
}

std::string join(const std::vector<std::string>& components) {
  std::string out;
  for (const auto& component : components) {
    if (!out.empty()) {
      out += '/';
    }
    out += component;
  }
  return out;
}

// (An out parameter: GCC 12 misreports a Result<std::string> here as uninitialised.)
Status read_link_at(int dir, const std::string& name, const std::string& shown,
                    std::string& target) {
  target.assign(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
    if (n < 0) {
      return path_error(shown, errno);
    }
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return {};
    }
    target.resize(target.size() * 2);
  }
}

// openat2(RESOLVE_IN_ROOT); returns an invalid Fd when it is unavailable or fails
// (the caller then walks by hand, which also produces the precise error).
util::Fd try_openat2(int root, const std::string& path, uint64_t flags) {
#ifdef SYS_openat2
  if (g_openat2_missing.load(std::memory_order_relaxed)) {
    return util::Fd();
  }
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof(how));
  if (fd < 0) {
    if (errno == ENOSYS || errno == EPERM) {  // EPERM: seccomp filters in some sandboxes
      g_openat2_missing.store(true, std::memory_order_relaxed);
    }
    return util::Fd();
  }
  return util::Fd(static_cast<int>(fd));
#else
  (void)root;
  (void)path;
  (void)flags;
  return util::Fd();
#endif
}

}  // namespace

Result<RootDir> RootDir::open(const std::filesystem::path& root, bool allow_openat2) {
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return util::errno_error(root, errno);
  }
  return RootDir(root, util::Fd(fd), allow_openat2);
}

std::vector<std::string> RootDir::split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string component = path.substr(start, end - start);
    if (!component.empty() && component != ".") {
      out.push_back(std::move(component));
    }
    start = end + 1;
  }
  return out;
}

Result<util::Fd> RootDir::walk(const std::vector<std::string>& components, bool create) const {
  std::vector<util::Fd> stack;
  int self = ::openat(m_fd.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (self < 0) {
    return util::errno_error(m_path, errno);
  }
  stack.emplace_back(self);
  std::deque<std::string> pending(components.begin(), components.end());
  std::vector<std::string> walked;  // for messages only
  int links = 0;
  while (!pending.empty()) {
    std::string component = std::move(pending.front());
    pending.pop_front();
    if (component.empty() || component == ".") {
      continue;
    }
    if (component == "..") {
      if (stack.size() > 1) {
        stack.pop_back();
      }
      if (!walked.empty()) {
        walked.pop_back();
      }
      continue;
    }
    walked.push_back(component);
    int current = stack.back().get();
    struct stat st {};
    if (::fstatat(current, component.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT || !create) {
        return path_error(join(walked), errno);
      }
      if (::mkdirat(current, component.c_str(), 0755) != 0 && errno != EEXIST) {
        return path_error(join(walked), errno);
      }
      if (::fstatat(current, component.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return path_error(join(walked), errno);
      }
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > k_max_symlinks) {
        return path_error(join(walked), ELOOP);
      }
      std::string target;
      DISTILL_CHECK(read_link_at(current, component, join(walked), target));
      walked.pop_back();
      if (target.starts_with('/')) {
        stack.resize(1);
        walked.clear();
      }
      std::vector<std::string> parts = split(target);
      pending.insert(pending.begin(), parts.begin(), parts.end());
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      return path_error(join(walked), ENOTDIR);
    }
    int next = ::openat(current, component.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      return path_error(join(walked), errno);
    }
    stack.emplace_back(next);
  }
  return std::move(stack.back());
}

Result<util::Fd> RootDir::open_dir(const std::string& path, bool create) const {
  std::vector<std::string> components = split(path);
  if (components.empty()) {
    int self = ::openat(m_fd.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (self < 0) {
      return util::errno_error(m_path, errno);
    }
    return util::Fd(self);
  }
  if (m_allow_openat2) {
    util::Fd fd = try_openat2(m_fd.get(), join(components), O_PATH | O_DIRECTORY);
    if (fd.valid()) {
      return fd;
    }
  }
  return walk(components, create);
}

Result<ParentRef> RootDir::open_parent(const std::string& path, bool create) const {
  std::vector<std::string> components = split(path);
  if (components.empty()) {
    return make_error(ErrorKind::InvalidInput, "/" + path + ": the root has no parent");
  }
  std::string name = std::move(components.back());
  components.pop_back();
  if (name == "..") {
    return make_error(ErrorKind::InvalidInput, "/" + path + ": path ends in '..'");
  }
  DISTILL_TRY(util::Fd dir, open_dir(join(components), create));
  return ParentRef{std::move(dir), std::move(name)};
}

Result<std::string> RootDir::read_file(const std::string& path) const {
  std::vector<std::string> components = split(path);
  util::Fd file;
  if (m_allow_openat2 && !components.empty()) {
    // O_NONBLOCK: a FIFO planted at the path must not hang the reader.
    file = try_openat2(m_fd.get(), join(components), O_RDONLY | O_NONBLOCK);
  }
  // By hand: resolve the parent, and follow a final symlink (inside the root).
  std::string current = join(components);
  for (int links = 0; !file.valid(); ++links) {
    if (links > k_max_symlinks) {
      return path_error(path, ELOOP);
    }
    DISTILL_TRY(ParentRef parent, open_parent(current, false));
    struct stat st {};
    if (::fstatat(parent.dir.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return path_error(current, errno);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target;
      DISTILL_CHECK(read_link_at(parent.dir.get(), parent.name, current, target));
      if (target.starts_with('/')) {
        current = target;
      } else {
        std::vector<std::string> base = split(current);
        base.pop_back();
        current = join(base) + "/" + target;
      }
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      return make_error(ErrorKind::InvalidInput, "/" + current + ": not a regular file");
    }
    int fd = ::openat(parent.dir.get(), parent.name.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      return path_error(current, errno);
    }
    file.reset(fd);
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::InvalidInput, "/" + join(components) + ": not a regular file");
  }
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(file.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return path_error(path, errno);
    }
    if (n == 0) {
      break;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace distill::runtime
