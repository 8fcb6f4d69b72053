// RootDir: path resolution confined to a directory (a container's rootfs).
//
// Layers and images are untrusted: a symlink `usr/lib -> /etc` followed by an entry
// `usr/lib/x` must land in `<rootfs>/etc/x`, never in the host's /etc. Every path is
// resolved component by component relative to an open descriptor of the root, with
// symlinks interpreted as if the root were `/` (absolute targets restart at the
// root, `..` never climbs above it), the way the kernel's openat2(RESOLVE_IN_ROOT)
// does; openat2 is used when the kernel has it, a manual O_NOFOLLOW walk otherwise.
// The final component of a path is never followed by the *_parent functions, so a
// caller creating or replacing an entry acts on the name itself.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace distill::runtime {

// The directory holding an entry, and the entry's name in it.
struct ParentRef {
  util::Fd dir;      // an O_PATH descriptor of the parent directory, inside the root
  std::string name;  // the last component: never empty, ".", "..", or containing '/'
};

class RootDir {
 public:
  // Opens `root` (which must be an existing directory). `allow_openat2` = false
  // forces the portable walk (tests exercise both).
  static Result<RootDir> open(const std::filesystem::path& root, bool allow_openat2 = true);

  // Splits a relative or absolute in-root path into its components, dropping "" and
  // "." (so "./a//b/" -> {a, b}); ".." is kept for the resolver to clamp.
  static std::vector<std::string> split(const std::string& path);

  // The directory `path`, following symlinks inside the root. With `create`,
  // missing directories are made (mode 0755, owned by the caller).
  Result<util::Fd> open_dir(const std::string& path, bool create) const;

  // The parent of `path` (resolved as open_dir) and its final name, not followed.
  // Fails for the root itself and for a final ".." component.
  Result<ParentRef> open_parent(const std::string& path, bool create) const;

  // Reads a regular file at `path`, following symlinks inside the root.
  Result<std::string> read_file(const std::string& path) const;

  [[nodiscard]] int fd() const { return m_fd.get(); }
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  RootDir(std::filesystem::path path, util::Fd fd, bool allow_openat2)
      : m_path(std::move(path)), m_fd(std::move(fd)), m_allow_openat2(allow_openat2) {}

  Result<util::Fd> walk(const std::vector<std::string>& components, bool create) const;

  std::filesystem::path m_path;
  util::Fd m_fd;
  bool m_allow_openat2 = true;
};

}  // namespace distill::runtime
