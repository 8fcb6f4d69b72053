// AtomicFile: publish a file only when it is complete.
//
// Data goes to a temporary file in the destination's directory; commit() closes
// it and renames it over the destination. If commit() is never called (error,
// exception) the destructor removes the temporary file, so a reader never sees a
// half-written cache entry, blob or layout file. On SIGINT/SIGTERM/SIGHUP the
// interrupt handler removes it (see interrupt_cleanup.hpp; main installs it),
// and the owner holds an flock on it while it lives, so that what a SIGKILL
// leaves is recognised later as abandoned (sweep_abandoned(dir, ".", ".tmp.")).
#pragma once

#include <filesystem>
#include <string_view>

#include "util/fd.hpp"
#include "util/interrupt_cleanup.hpp"
#include "util/result.hpp"

namespace distill::util {

class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& destination, unsigned mode = 0644);
  AtomicFile(AtomicFile&&) noexcept = default;
  AtomicFile& operator=(AtomicFile&&) noexcept = default;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  Status write(std::string_view data);
  Status write(const void* data, size_t size);
  [[nodiscard]] int fd() const { return m_fd.get(); }
  [[nodiscard]] const std::filesystem::path& temp_path() const { return m_temp; }
  [[nodiscard]] const std::filesystem::path& destination() const { return m_destination; }

  // Closes and renames into place. After this the object owns nothing.
  Status commit();
  // The same, to a destination known only now (a blob named by its digest).
  Status commit_as(const std::filesystem::path& destination);
  // Publishes what was written so far under `destination` too, replacing
  // what is there: a hard link (renamed into place from a name of the
  // temporary's own where one exists), so that one file, and one inode, goes
  // by several names. The temporary stays this object's, to write no more.
  // Fails where the file system has no hard links.
  Status link_as(const std::filesystem::path& destination);

 private:
  AtomicFile(std::filesystem::path destination, std::filesystem::path temp, Fd fd,
             CleanupRegistration cleanup)
      : m_destination(std::move(destination)),
        m_temp(std::move(temp)),
        m_fd(std::move(fd)),
        m_cleanup(std::move(cleanup)) {}

  std::filesystem::path m_destination;
  std::filesystem::path m_temp;
  Fd m_fd;
  CleanupRegistration m_cleanup;
  unsigned m_links = 0;  // names link_as() made to rename into place
};

}  // namespace distill::util
