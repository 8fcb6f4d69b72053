// Layer application: see rootfs_unpacker.hpp. Whiteouts follow the image-spec's
// rule that they only hide content of lower layers: everything created or touched
// by the current layer is remembered by inode, and an opaque marker or `.wh.` entry
// never removes it.
#include "runtime/rootfs_unpacker.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "archive/tar_reader.hpp"
#include "runtime/root_dir.hpp"
#include "util/file_io.hpp"

namespace distill::runtime {

namespace {

constexpr std::string_view k_whiteout_prefix = ".wh.";
constexpr std::string_view k_opaque_marker = ".wh..wh..opq";

using InodeKey = std::pair<dev_t, ino_t>;

constexpr size_t k_copy_buffer_size = size_t{1} << 20;

Error sys_error(const std::string& what, int err) {
  ErrorKind kind = err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io;
  return make_error(kind, what + ": " + std::strerror(err));
}

std::string parent_path_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string base_name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Removes `name` in `dir` (recursively for directories) without following symlinks.
Status remove_at(int dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status() : sys_error(name, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
      return sys_error(name, errno);
    }
    return {};
  }
  int child = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (child < 0) {
    return sys_error(name, errno);
  }
  DIR* stream = ::fdopendir(child);
  if (stream == nullptr) {
    int err = errno;
    ::close(child);
    return sys_error(name, err);
  }
  std::vector<std::string> names;
  while (dirent* item = ::readdir(stream)) {
    std::string child_name = item->d_name;
    if (child_name != "." && child_name != "..") {
      names.push_back(std::move(child_name));
    }
  }
  Status status;
  for (const auto& child_name : names) {
    status = remove_at(::dirfd(stream), child_name);
    if (!status.ok()) {
      break;
    }
  }
  ::closedir(stream);
  if (!status.ok()) {
    return status;
  }
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return sys_error(name, errno);
  }
  return {};
}

struct DirMeta {
  uint32_t mode = 0755;
  int64_t mtime = 0;
};

class LayerApplier {
 public:
  LayerApplier(RootDir root, bool is_root) : m_root(std::move(root)), m_is_root(is_root) {}

  // `diff_id`, when given, is what the layer's uncompressed tar must hash to.
  Status apply_layer(const std::filesystem::path& layer, const std::string& origin,
                     const crypto::Digest* diff_id) {
    m_layer_inodes.clear();
    m_dir_meta.clear();
    auto on_entry = [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
      Status status = apply_entry(entry, content);
      if (!status.ok()) {
        return status.error().context(origin + ": " + entry.path);
      }
      return {};
    };
    if (diff_id != nullptr) {
      DISTILL_CHECK(archive::for_each_tar_entry_verified(layer, *diff_id, on_entry, origin));
    } else {
      DISTILL_CHECK(archive::for_each_layer_entry(layer, on_entry, origin));
    }
    return finish_directories(origin);
  }

 private:
  void remember(int dir, const std::string& name) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      m_layer_inodes.insert({st.st_dev, st.st_ino});
    }
  }

  bool from_this_layer(const struct stat& st) const {
    return m_layer_inodes.count({st.st_dev, st.st_ino}) != 0;
  }

  Status apply_entry(const archive::TarEntry& entry, archive::ContentReader& content) {
    const std::string name = base_name_of(entry.path);
    if (name.rfind(k_whiteout_prefix, 0) == 0) {
      return apply_whiteout(entry.path, name);
    }
    DISTILL_TRY(ParentRef parent, m_root.open_parent(entry.path, true));
    const int dir = parent.dir.get();
    struct stat existing {};
    bool exists = ::fstatat(dir, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;

    switch (entry.type) {
      case archive::EntryType::Directory:
        if (!exists || !S_ISDIR(existing.st_mode)) {
          if (exists) {
            DISTILL_CHECK(remove_at(dir, name));
          }
          if (::mkdirat(dir, name.c_str(), 0700) != 0) {
            return sys_error("mkdir", errno);
          }
        }
        DISTILL_CHECK(set_owner(dir, name, entry));
        m_dir_meta[entry.path] = DirMeta{entry.mode & 07777, entry.mtime};
        remember(dir, name);
        return {};
      case archive::EntryType::File:
        return write_file(dir, name, entry, content, exists);
      case archive::EntryType::Symlink:
        if (exists) {
          DISTILL_CHECK(remove_at(dir, name));
        }
        if (::symlinkat(entry.link_target.c_str(), dir, name.c_str()) != 0) {
          return sys_error("symlink", errno);
        }
        DISTILL_CHECK(set_owner(dir, name, entry));
        DISTILL_CHECK(set_mtime(dir, name, entry.mtime));
        remember(dir, name);
        return {};
      case archive::EntryType::Hardlink:
        return make_hardlink(dir, name, entry, exists ? &existing : nullptr);
      case archive::EntryType::CharDevice:
      case archive::EntryType::BlockDevice:
      case archive::EntryType::Fifo:
        return make_node(dir, name, entry, exists);
    }
    return make_error(ErrorKind::Unsupported, "unknown entry type");
  }

  Status apply_whiteout(const std::string& path, const std::string& name) {
    auto dir = m_root.open_dir(parent_path_of(path), false);
    if (!dir.ok()) {
      // Nothing below to hide; a path through a non-directory is a broken layer.
      return dir.error().kind == ErrorKind::NotFound ? Status() : Status(dir.error());
    }
    if (name == k_opaque_marker) {
      return clear_lower(dir->get());
    }
    std::string target = name.substr(k_whiteout_prefix.size());
    if (target.empty() || target == "." || target == ".." ||
        target.rfind(k_whiteout_prefix, 0) == 0) {
      return make_error(ErrorKind::Corrupt, "invalid whiteout name '" + name + "'");
    }
    struct stat st {};
    if (::fstatat(dir->get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return errno == ENOENT ? Status() : sys_error(target, errno);
    }
    if (from_this_layer(st)) {
      return {};  // a whiteout never hides its own layer's content
    }
    return remove_at(dir->get(), target);
  }

  // Removes the children of `dir` that lower layers put there, keeping (and
  // descending into) what this layer created.
  Status clear_lower(int dir) {
    int handle = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (handle < 0) {
      return sys_error("opaque directory", errno);
    }
    DIR* stream = ::fdopendir(handle);
    if (stream == nullptr) {
      int err = errno;
      ::close(handle);
      return sys_error("opaque directory", err);
    }
    std::vector<std::string> names;
    while (dirent* item = ::readdir(stream)) {
      std::string child = item->d_name;
      if (child != "." && child != "..") {
        names.push_back(std::move(child));
      }
    }
    Status status;
    for (const auto& child : names) {
      struct stat st {};
      if (::fstatat(::dirfd(stream), child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;
      }
      if (!from_this_layer(st)) {
        status = remove_at(::dirfd(stream), child);
      } else if (S_ISDIR(st.st_mode)) {
        int sub =
            ::openat(::dirfd(stream), child.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          status = sys_error(child, errno);
        } else {
          status = clear_lower(sub);
          ::close(sub);
        }
      }
      if (!status.ok()) {
        break;
      }
    }
    ::closedir(stream);
    return status;
  }

  Status write_file(int dir, const std::string& name, const archive::TarEntry& entry,
                    archive::ContentReader& content, bool exists) {
    if (exists) {
      DISTILL_CHECK(remove_at(dir, name));
    }
    int raw =
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) {
      return sys_error("create", errno);
    }
    util::Fd fd(raw);
    if (m_buffer.empty()) {
      m_buffer.resize(k_copy_buffer_size);
    }
    std::vector<char>& buffer = m_buffer;
    for (;;) {
      DISTILL_TRY(size_t n, content.read(buffer.data(), buffer.size()));
      if (n == 0) {
        break;
      }
      DISTILL_CHECK(util::write_all(fd.get(), buffer.data(), n, name));
    }
    if (m_is_root && ::fchown(fd.get(), entry.uid, entry.gid) != 0) {
      return sys_error("chown", errno);
    }
    if (::fchmod(fd.get(), entry.mode & 07777) != 0) {
      return sys_error("chmod", errno);
    }
    timespec times[2] = {{entry.mtime, 0}, {entry.mtime, 0}};
    if (::futimens(fd.get(), times) != 0) {
      return sys_error("utimes", errno);
    }
    remember(dir, name);
    return {};
  }

  Status make_hardlink(int dir, const std::string& name, const archive::TarEntry& entry,
                       const struct stat* existing) {
    auto source = m_root.open_parent(entry.link_target, false);
    if (!source.ok()) {
      return source.error().context("hard link target " + entry.link_target);
    }
    struct stat st {};
    if (::fstatat(source->dir.get(), source->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return sys_error("hard link target " + entry.link_target, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      return make_error(ErrorKind::Corrupt,
                        "hard link target " + entry.link_target + " is a directory");
    }
    if (existing != nullptr) {
      if (existing->st_dev == st.st_dev && existing->st_ino == st.st_ino) {
        return {};  // already that file
      }
      DISTILL_CHECK(remove_at(dir, name));
    }
    if (::linkat(source->dir.get(), source->name.c_str(), dir, name.c_str(), 0) != 0) {
      return sys_error("link to " + entry.link_target, errno);
    }
    remember(dir, name);
    return {};
  }

  Status make_node(int dir, const std::string& name, const archive::TarEntry& entry, bool exists) {
    mode_t kind = S_IFIFO;
    if (entry.type == archive::EntryType::CharDevice) {
      kind = S_IFCHR;
    } else if (entry.type == archive::EntryType::BlockDevice) {
      kind = S_IFBLK;
    }
    if (kind != S_IFIFO && !m_is_root) {
      return make_error(ErrorKind::Unsupported, "device node refused: creating devices needs root");
    }
    if (exists) {
      DISTILL_CHECK(remove_at(dir, name));
    }
    dev_t device = kind == S_IFIFO ? 0 : makedev(entry.dev_major, entry.dev_minor);
    if (::mknodat(dir, name.c_str(), kind | 0600, device) != 0) {
      return sys_error("mknod", errno);
    }
    DISTILL_CHECK(set_owner(dir, name, entry));
    // The node was just made by us and is not a symlink: fchmodat cannot escape.
    if (::fchmodat(dir, name.c_str(), entry.mode & 07777, 0) != 0) {
      return sys_error("chmod", errno);
    }
    DISTILL_CHECK(set_mtime(dir, name, entry.mtime));
    remember(dir, name);
    return {};
  }

  Status set_owner(int dir, const std::string& name, const archive::TarEntry& entry) const {
    if (m_is_root &&
        ::fchownat(dir, name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return sys_error("chown", errno);
    }
    return {};
  }

  static Status set_mtime(int dir, const std::string& name, int64_t mtime) {
    timespec times[2] = {{mtime, 0}, {mtime, 0}};
    if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return sys_error("utimes", errno);
    }
    return {};
  }

  // Directory modes and mtimes last: creating children changes a directory's mtime,
  // and a read-only mode must not stop this layer from filling it.
  Status finish_directories(const std::string& origin) {
    for (const auto& [path, meta] : m_dir_meta) {
      auto parent = m_root.open_parent(path, false);
      if (!parent.ok()) {
        continue;  // removed again later in the same layer
      }
      const int dir = parent->dir.get();
      const char* name = parent->name.c_str();
      struct stat st {};
      if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
        continue;  // replaced later in the same layer
      }
      if (::fchmodat(dir, name, meta.mode, 0) != 0) {
        return sys_error(origin + ": " + path + ": chmod", errno);
      }
      Status status = set_mtime(dir, name, meta.mtime);
      if (!status.ok()) {
        return status.error().context(origin + ": " + path);
      }
    }
    return {};
  }

  RootDir m_root;
  bool m_is_root = false;
  std::set<InodeKey> m_layer_inodes;
  std::map<std::string, DirMeta> m_dir_meta;
  std::vector<char> m_buffer;  // file content copies, allocated once
};

}  // namespace

Status unpack_layers(const std::vector<std::filesystem::path>& layer_blobs,
                     const std::filesystem::path& rootfs, const UnpackOptions& options) {
  const std::vector<crypto::Digest>& diff_ids = options.diff_ids;
  if (!diff_ids.empty() && diff_ids.size() != layer_blobs.size()) {
    return make_error(ErrorKind::Corrupt,
                      (options.image.empty() ? std::string("the image") : options.image) + " has " +
                          std::to_string(layer_blobs.size()) + " layers, but its config gives " +
                          std::to_string(diff_ids.size()) + " diff_ids");
  }
  DISTILL_TRY(RootDir root, RootDir::open(rootfs, options.allow_openat2));
  LayerApplier applier(std::move(root), ::geteuid() == 0);
  for (size_t i = 0; i < layer_blobs.size(); ++i) {
    const std::string origin = options.image.empty()
                                   ? layer_blobs[i].string()
                                   : "layer " + std::to_string(i) + " of " + options.image;
    DISTILL_CHECK(
        applier.apply_layer(layer_blobs[i], origin, diff_ids.empty() ? nullptr : &diff_ids[i]));
  }
  return {};
}

}  // namespace distill::runtime
