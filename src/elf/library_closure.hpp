// Library closure: which shared libraries an ELF file needs inside a root
// filesystem, found the way glibc's ld.so would find them, recursively.
//
// Search order per object (ld.so(8)): DT_RPATH of the object and of its loaders
// (only when the object has no DT_RUNPATH), DT_RUNPATH, the ld.so.conf directories
// of the rootfs (/etc/ld.so.conf and its `include`s), then the default directories.
// $ORIGIN, $LIB and $PLATFORM are expanded. A candidate for another machine or ELF
// class is skipped, as ld.so does. Nothing is run; the rootfs is read through a
// RootfsView, so it can be a directory or an in-memory tree.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "elf/elf_reader.hpp"
#include "util/result.hpp"

namespace distill::elf {

struct RootfsView {
  // The bytes of the regular file at absolute `path` inside the rootfs, following
  // symlinks inside the rootfs; nullopt if there is none.
  std::function<std::optional<std::string>(const std::string& path)> read_file;
  // The entry names of the directory at absolute `path`; empty if there is none.
  std::function<std::vector<std::string>(const std::string& path)> list_dir;
};

// A RootfsView over a directory on disk; symlinks (absolute or with "..") are
// resolved as if `root` were "/", so nothing outside `root` is ever read.
RootfsView directory_rootfs(const std::filesystem::path& root);

// The ld.so.conf directories of the rootfs (in file order, `include` globs expanded
// in sorted order), then /lib/TRIPLET, /usr/lib/TRIPLET, /lib, /usr/lib, /lib64,
// /usr/lib64; duplicates removed.
std::vector<std::string> library_search_dirs(const RootfsView& root, const std::string& triplet);

struct MissingLibrary {
  std::string soname;     // the DT_NEEDED entry (or the PT_INTERP path)
  std::string needed_by;  // path of the object that needs it
};

struct LibraryClosure {
  std::map<std::string, std::string> found;  // soname (or interpreter path) -> path
  std::vector<MissingLibrary> missing;       // sorted by soname, then needed_by
};

// The closure of the ELF files at `paths` (absolute paths inside the rootfs).
// Errors: a path that is absent or not ELF. A needed library that cannot be parsed
// is skipped like ld.so does (it may be found later in the search path).
// `search_dirs` empty = library_search_dirs(root, triplet of the first file).
Result<LibraryClosure> library_closure(const RootfsView& root,
                                       const std::vector<std::string>& paths,
                                       const std::vector<std::string>& search_dirs = {});

}  // namespace distill::elf
