// Console socket: see console_socket.hpp.
#include "runtime/console_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace distill::runtime {

namespace {

Error socket_error(const std::string& what, const std::filesystem::path& path, int error) {
  return Error{ErrorKind::Io,
               "console socket " + path.string() + ": " + what + ": " + std::strerror(error)};
}

}  // namespace

Result<ConsoleSocket> ConsoleSocket::listen(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof(address.sun_path)) {
    return make_error(ErrorKind::InvalidInput,
                      "console socket " + text + ": path longer than a unix socket allows");
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  util::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return socket_error("socket", path, errno);
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return socket_error("bind", path, errno);
  }
  if (::listen(fd.get(), 1) != 0) {
    return socket_error("listen", path, errno);
  }
  return ConsoleSocket(std::move(fd), path);
}

Result<util::Fd> ConsoleSocket::receive_fd(std::chrono::milliseconds timeout) {
  pollfd pfd{m_fd.get(), POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) {
    return socket_error("poll", m_path, errno);
  }
  if (ready <= 0) {
    return make_error(ErrorKind::NotFound, "console socket " + m_path.string() + ": no peer yet");
  }
  util::Fd peer(::accept4(m_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!peer.valid()) {
    return socket_error("accept", m_path, errno);
  }
  char name[4096];
  iovec io{name, sizeof(name)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t n = 0;
  do {
    n = ::recvmsg(peer.get(), &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return socket_error("recvmsg", m_path, errno);
  }
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS &&
        header->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(header), sizeof(int));
      return util::Fd(fd);
    }
  }
  return make_error(ErrorKind::Corrupt,
                    "console socket " + m_path.string() + ": the runtime sent no terminal");
}

Status send_fd(int socket, int fd, const std::string& name) {
  std::string data = name.empty() ? std::string("fd") : name;
  iovec io{data.data(), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
  if (::sendmsg(socket, &message, MSG_NOSIGNAL) < 0) {
    return make_error(ErrorKind::Io, std::string("sendmsg: ") + std::strerror(errno));
  }
  return {};
}

}  // namespace distill::runtime
