// The console socket of `runc create|run -d --console-socket PATH`: a unix stream
// socket on which the runtime, once it has made the container's pseudo-terminal,
// connects and sends the pty master as SCM_RIGHTS ancillary data (runc's
// docs/terminals.md, unix(7), cmsg(3)). crun follows the same protocol.
#pragma once

#include <chrono>
#include <filesystem>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace distill::runtime {

class ConsoleSocket {
 public:
  // Listens on `path` (in a private directory; the path must not exist).
  static Result<ConsoleSocket> listen(const std::filesystem::path& path);

  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

  // The first fd a peer sends, waiting at most `timeout`. Nothing yet is a
  // NotFound error (the caller checks on the runtime and waits again); a peer
  // that connects but sends no fd is Corrupt.
  Result<util::Fd> receive_fd(std::chrono::milliseconds timeout);

 private:
  ConsoleSocket(util::Fd fd, std::filesystem::path path)
      : m_fd(std::move(fd)), m_path(std::move(path)) {}
  util::Fd m_fd;
  std::filesystem::path m_path;
};

// Sends `fd` over the connected unix socket `socket` with `name` as the data
// (what runc sends: the pty's name). For tests and for symmetry with receive_fd.
Status send_fd(int socket, int fd, const std::string& name);

}  // namespace distill::runtime
