// Raw mode and window size: see terminal.hpp.
#include "runtime/terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace distill::runtime {

Result<RawTerminal> RawTerminal::enter(int fd) {
  RawTerminal terminal;
  struct termios saved {};
  if (::isatty(fd) == 0 || ::tcgetattr(fd, &saved) != 0) {
    return terminal;
  }
  struct termios raw = saved;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSADRAIN, &raw) != 0) {
    return make_error(ErrorKind::Io,
                      std::string("cannot put the terminal in raw mode: ") + std::strerror(errno));
  }
  terminal.m_fd = fd;
  terminal.m_saved = saved;
  return terminal;
}

RawTerminal::RawTerminal(RawTerminal&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_saved(other.m_saved) {}

RawTerminal::~RawTerminal() {
  if (m_fd >= 0) {
    ::tcsetattr(m_fd, TCSADRAIN, &m_saved);
  }
}

std::optional<WindowSize> window_size_of(int fd) {
  struct winsize size {};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_row == 0 || size.ws_col == 0) {
    return std::nullopt;
  }
  return WindowSize{size.ws_row, size.ws_col};
}

bool copy_window_size(int from, int to) {
  struct winsize size {};
  if (::ioctl(from, TIOCGWINSZ, &size) != 0 || (size.ws_row == 0 && size.ws_col == 0)) {
    return false;
  }
  return ::ioctl(to, TIOCSWINSZ, &size) == 0;
}

}  // namespace distill::runtime
