// Console relay: see console_relay.hpp.
#include "runtime/console_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace distill::runtime {

namespace {

constexpr size_t k_chunk = 16384;

Status write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        pollfd pfd{fd, POLLOUT, 0};
        ::poll(&pfd, 1, 100);
        continue;
      }
      return make_error(ErrorKind::Io,
                        std::string("writing the container's output: ") + std::strerror(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

// The EOF character of the pty (Ctrl-D unless the container changed it).
char eof_character(int master) {
  struct termios settings {};
  if (::tcgetattr(master, &settings) == 0 && settings.c_cc[VEOF] != _POSIX_VDISABLE) {
    return static_cast<char>(settings.c_cc[VEOF]);
  }
  return '\x04';
}

}  // namespace

ConsoleRelay::ConsoleRelay(util::Fd master, int input, int output)
    : m_master(std::move(master)), m_input(input), m_output(output), m_input_open(input >= 0) {
  int flags = ::fcntl(m_master.get(), F_GETFL);
  if (flags >= 0) {
    ::fcntl(m_master.get(), F_SETFL, flags | O_NONBLOCK);
  }
}

Result<bool> ConsoleRelay::read_master() {
  char buffer[k_chunk];
  for (;;) {
    ssize_t n = ::read(m_master.get(), buffer, sizeof(buffer));
    if (n > 0) {
      DISTILL_CHECK(write_all(m_output, buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return true;
    }
    // 0 or EIO: the slave side has no holder left.
    m_master_open = false;
    return false;
  }
}

Status ConsoleRelay::read_input() {
  char buffer[k_chunk];
  ssize_t n = ::read(m_input, buffer, sizeof(buffer));
  if (n > 0) {
    m_pending.append(buffer, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    m_input_open = false;
    m_pending += eof_character(m_master.get());
  }
  return {};
}

Status ConsoleRelay::write_pending() {
  while (!m_pending.empty()) {
    ssize_t n = ::write(m_master.get(), m_pending.data(), m_pending.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        return {};
      }
      if (errno == EIO) {  // the container has gone; its exit ends the loop
        m_pending.clear();
        return {};
      }
      return make_error(ErrorKind::Io, std::string("writing to the container's terminal: ") +
                                           std::strerror(errno));
    }
    m_pending.erase(0, static_cast<size_t>(n));
  }
  return {};
}

Result<bool> ConsoleRelay::pump(std::chrono::milliseconds timeout, int wake) {
  if (!m_master_open) {
    return false;
  }
  pollfd fds[3];
  nfds_t count = 0;
  short master_events = POLLIN;
  if (!m_pending.empty()) {
    master_events |= POLLOUT;
  }
  fds[count++] = pollfd{m_master.get(), master_events, 0};
  const bool want_input = m_input_open && m_pending.empty();
  const nfds_t input_index = count;
  if (want_input) {
    fds[count++] = pollfd{m_input, POLLIN, 0};
  }
  if (wake >= 0) {
    fds[count++] = pollfd{wake, POLLIN, 0};
  }
  int ready = ::poll(fds, count, static_cast<int>(timeout.count()));
  if (ready < 0) {
    if (errno == EINTR) {
      return true;
    }
    return make_error(ErrorKind::Io, std::string("poll: ") + std::strerror(errno));
  }
  if (want_input && (fds[input_index].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    DISTILL_CHECK(read_input());
  }
  if (!m_pending.empty()) {
    DISTILL_CHECK(write_pending());
  }
  if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    return read_master();
  }
  return true;
}

void ConsoleRelay::drain_output() {
  if (m_master_open) {
    (void)read_master();
  }
}

}  // namespace distill::runtime
