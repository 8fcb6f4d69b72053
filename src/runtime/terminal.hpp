// The caller's terminal during `distill run -t`: raw mode while the container
// owns the pseudo-terminal (every key, Ctrl-C and Ctrl-D included, goes to the
// container as a byte, as with `docker run -it`), restored on scope exit, and the
// window size copied onto the container's pty (TIOCGWINSZ/TIOCSWINSZ, termios(3),
// tty_ioctl(4)).
#pragma once

#include <termios.h>

#include <cstdint>
#include <optional>

#include "util/result.hpp"

namespace distill::runtime {

// Raw mode on a terminal fd for the object's lifetime (cfmakeraw, as `docker run
// -it` and runc do); the original settings come back on destruction. Not a
// terminal: nothing is changed.
class RawTerminal {
 public:
  // `fd` is a terminal or not; only a failing tcsetattr on a terminal is an error.
  static Result<RawTerminal> enter(int fd);
  RawTerminal(RawTerminal&& other) noexcept;
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  RawTerminal& operator=(RawTerminal&&) = delete;
  ~RawTerminal();

  [[nodiscard]] bool active() const { return m_fd >= 0; }

 private:
  RawTerminal() = default;
  int m_fd = -1;
  struct termios m_saved {};
};

struct WindowSize {
  uint16_t rows = 0;
  uint16_t columns = 0;
};

// The window size of terminal `fd`; none if it is not a terminal or has no size.
std::optional<WindowSize> window_size_of(int fd);

// Copies the window size of terminal `from` to the pty `to`; false (and nothing
// done) when `from` is not a terminal or has no size.
bool copy_window_size(int from, int to);

}  // namespace distill::runtime
