// Whole-file reads and writes with errors that name the path and errno.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace distill::util {

// "<path>: <strerror(errno)>" as an Io error (NotFound for ENOENT).
Error errno_error(const std::filesystem::path& path, int err);

Result<std::string> read_file(const std::filesystem::path& path);
// What is left to read of `fd` (opened by the caller, e.g. with O_NOATIME);
// `path` names it in errors.
Result<std::string> read_fd(int fd, const std::filesystem::path& path);

// Writes through AtomicFile: the file appears whole or not at all. An existing
// device, FIFO or socket (/dev/null, /dev/stdout) is written to in place.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         unsigned mode = 0644);

// Creates `path`, which must not exist, with `mode` and `data`; removes it
// again on failure. Not atomic: for a directory nobody else reads or writes
// until it is complete (a layout assembled in a staging directory), where
// write_file_atomic's temporary file, lock and rename guard nothing.
Status write_new_file(const std::filesystem::path& path, std::string_view data,
                      unsigned mode = 0644);

// Writes `size` bytes at once, retrying on EINTR and short writes.
Status write_all(int fd, const void* data, size_t size, const std::filesystem::path& path);

// Copies the rest of `in` (the file `source`) to `out` (the file
// `destination`): within the kernel (copy_file_range), or through a buffer
// where the two filesystems do not allow it. Errors name the file at fault;
// after an interrupt (util/interrupt.hpp) it stops between two pieces.
Status copy_rest(int in, int out, const std::filesystem::path& source,
                 const std::filesystem::path& destination);

// Removes `path` and everything under it, if it exists. std::filesystem's
// remove_all() stops at the first entry that vanishes under it (ENOENT) and
// leaves whatever it had not reached: another process removing its own files
// in the tree, such as a gpg-agent taking its sockets as it stops, left whole
// directories in /tmp. So this walks the tree with remove_tree_signal_safe()
// first, which takes such entries as removed (and read-only directories too),
// then walks what it leaves (a tree deeper than its limit) again by name. Like
// `rm --one-file-system`, neither walk enters a mount point inside `path`:
// one is an error naming it, and it stays, with what holds it.
Status remove_tree(const std::filesystem::path& path);

}  // namespace distill::util
