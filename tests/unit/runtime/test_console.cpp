// Tests for the pieces of `distill run -t` that need no container: the console
// socket (a pty master received over SCM_RIGHTS, as runc sends it), the relay
// between the caller's stdio and a pty master (both directions, held-back input,
// end of input as the EOF character, the end when the other side closes), raw
// mode restored on scope exit, and the window size copy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "runtime/console_relay.hpp"
#include "runtime/console_socket.hpp"
#include "runtime/terminal.hpp"
#include "util/fd.hpp"
#include "util/temp_dir.hpp"

namespace distill::runtime {
namespace {

using namespace std::chrono_literals;

struct Pty {
  util::Fd master;
  util::Fd slave;
};

Pty open_pty() {
  int master = -1;
  int slave = -1;
  EXPECT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  return Pty{util::Fd(master), util::Fd(slave)};
}

struct Pipe {
  util::Fd read;
  util::Fd write;
};

Pipe open_pipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  return Pipe{util::Fd(fds[0]), util::Fd(fds[1])};
}

// Reads what is available on `fd` within `timeout` (fd set non-blocking).
std::string read_available(int fd, std::chrono::milliseconds timeout = 1000ms) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string out;
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    char buffer[256];
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (!out.empty()) {
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  return out;
}

// The slave in raw mode, so what the relay writes arrives byte for byte.
void make_raw(int fd) {
  struct termios settings {};
  ASSERT_EQ(::tcgetattr(fd, &settings), 0);
  ::cfmakeraw(&settings);
  ASSERT_EQ(::tcsetattr(fd, TCSANOW, &settings), 0);
}

TEST(ConsoleSocket, ReceivesTheFdAPeerSends) {
  auto dir = util::TempDir::create("distill-console-");
  ASSERT_TRUE(dir.ok());
  auto socket = ConsoleSocket::listen(dir->path() / "console.sock");
  ASSERT_TRUE(socket.ok()) << socket.error().message;

  // Nothing yet: NotFound after the timeout, so the caller can check on runc.
  auto none = socket->receive_fd(20ms);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::NotFound);

  Pipe pipe = open_pipe();
  std::thread peer([&] {
    util::Fd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string path = socket->path().string();
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_TRUE(send_fd(client.get(), pipe.write.get(), "/dev/pts/7").ok());
  });
  auto received = socket->receive_fd(5000ms);
  peer.join();
  ASSERT_TRUE(received.ok()) << received.error().message;
  // The received fd is the pipe's write end: bytes written there come out of the pipe.
  ASSERT_EQ(::write(received->get(), "via-fd", 6), 6);
  received->reset();
  pipe.write.reset();
  EXPECT_EQ(read_available(pipe.read.get()), "via-fd");
}

TEST(ConsoleSocket, APeerThatSendsNoFdIsAnError) {
  auto dir = util::TempDir::create("distill-console-");
  ASSERT_TRUE(dir.ok());
  auto socket = ConsoleSocket::listen(dir->path() / "console.sock");
  ASSERT_TRUE(socket.ok());
  std::thread peer([&] {
    util::Fd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string path = socket->path().string();
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::write(client.get(), "x", 1), 1);
  });
  auto received = socket->receive_fd(5000ms);
  peer.join();
  ASSERT_FALSE(received.ok());
  EXPECT_EQ(received.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(received.error().message.find("sent no terminal"), std::string::npos);
}

TEST(ConsoleSocket, ATooLongPathIsAnErrorNamingIt) {
  std::string path = "/tmp/" + std::string(200, 'x');
  auto socket = ConsoleSocket::listen(path);
  ASSERT_FALSE(socket.ok());
  EXPECT_NE(socket.error().message.find(path), std::string::npos);
}

TEST(ConsoleRelay, CopiesBothWaysAndEndsWhenTheSlaveCloses) {
  Pty pty = open_pty();
  make_raw(pty.slave.get());
  Pipe input = open_pipe();
  Pipe output = open_pipe();
  ConsoleRelay relay(std::move(pty.master), input.read.get(), output.write.get());

  ASSERT_EQ(::write(input.write.get(), "typed", 5), 5);
  for (int i = 0; i < 3; ++i) {
    auto more = relay.pump(50ms, -1);
    ASSERT_TRUE(more.ok() && *more);
  }
  EXPECT_EQ(read_available(pty.slave.get()), "typed");

  ASSERT_EQ(::write(pty.slave.get(), "printed", 7), 7);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(relay.pump(50ms, -1).ok());
  }
  EXPECT_EQ(read_available(output.read.get()), "printed");

  // The container's side goes away (its last process exits): the relay ends
  // after passing on what was still buffered.
  ASSERT_EQ(::write(pty.slave.get(), "last", 4), 4);
  pty.slave.reset();
  bool ended = false;
  for (int i = 0; i < 40 && !ended; ++i) {
    auto more = relay.pump(50ms, -1);
    ASSERT_TRUE(more.ok());
    ended = !*more;
  }
  EXPECT_TRUE(ended);
  EXPECT_EQ(read_available(output.read.get()), "last");
}

TEST(ConsoleRelay, EndOfInputReachesTheContainerAsEof) {
  Pty pty = open_pty();  // canonical mode, as a shell's terminal starts
  Pipe input = open_pipe();
  Pipe output = open_pipe();
  ConsoleRelay relay(std::move(pty.master), input.read.get(), output.write.get());
  ASSERT_EQ(::write(input.write.get(), "line\n", 5), 5);
  input.write.reset();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(relay.pump(50ms, -1).ok());
  }
  // The slave reads the line, then end of file (a read of 0) from the EOF character.
  char buffer[64];
  ssize_t n = ::read(pty.slave.get(), buffer, sizeof(buffer));
  ASSERT_EQ(std::string(buffer, static_cast<size_t>(std::max<ssize_t>(n, 0))), "line\n");
  EXPECT_EQ(::read(pty.slave.get(), buffer, sizeof(buffer)), 0);
}

TEST(ConsoleRelay, InputTheContainerDoesNotReadIsHeldBackWithoutBlocking) {
  Pty pty = open_pty();
  make_raw(pty.slave.get());
  Pipe input = open_pipe();
  Pipe output = open_pipe();
  ::fcntl(input.write.get(), F_SETFL, O_NONBLOCK);
  ConsoleRelay relay(std::move(pty.master), input.read.get(), output.write.get());
  // Far more than a pty buffers, never read on the slave side: every pump still
  // returns within its timeout.
  std::string chunk(4096, 'k');
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 64; ++i) {
    (void)::write(input.write.get(), chunk.data(), chunk.size());
    ASSERT_TRUE(relay.pump(10ms, -1).ok());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(ConsoleRelay, WithoutInputOnlyOutputIsCopied) {
  Pty pty = open_pty();
  make_raw(pty.slave.get());
  Pipe output = open_pipe();
  ConsoleRelay relay(std::move(pty.master), -1, output.write.get());
  ASSERT_EQ(::write(pty.slave.get(), "out", 3), 3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(relay.pump(50ms, -1).ok());
  }
  EXPECT_EQ(read_available(output.read.get()), "out");
}

TEST(ConsoleRelay, AWakeFdEndsTheWait) {
  Pty pty = open_pty();
  Pipe wake = open_pipe();
  Pipe output = open_pipe();
  ConsoleRelay relay(std::move(pty.master), -1, output.write.get());
  ASSERT_EQ(::write(wake.write.get(), "s", 1), 1);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(relay.pump(5000ms, wake.read.get()).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Terminal, RawModeIsRestoredOnScopeExit) {
  Pty pty = open_pty();
  struct termios before {};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &before), 0);
  ASSERT_NE(before.c_lflag & ICANON, 0u);
  {
    auto raw = RawTerminal::enter(pty.slave.get());
    ASSERT_TRUE(raw.ok()) << raw.error().message;
    EXPECT_TRUE(raw->active());
    struct termios during {};
    ASSERT_EQ(::tcgetattr(pty.slave.get(), &during), 0);
    EXPECT_EQ(during.c_lflag & (ICANON | ECHO | ISIG), 0u);  // Ctrl-C is a byte, not SIGINT
  }
  struct termios after {};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
}

TEST(Terminal, NotATerminalIsLeftAlone) {
  Pipe pipe = open_pipe();
  auto raw = RawTerminal::enter(pipe.read.get());
  ASSERT_TRUE(raw.ok());
  EXPECT_FALSE(raw->active());
}

TEST(Terminal, WindowSizeIsCopiedToThePty) {
  Pty caller = open_pty();
  Pty container = open_pty();
  struct winsize size {};
  size.ws_row = 33;
  size.ws_col = 101;
  ASSERT_EQ(::ioctl(caller.slave.get(), TIOCSWINSZ, &size), 0);
  auto size_of = window_size_of(caller.slave.get());
  ASSERT_TRUE(size_of.has_value());
  EXPECT_EQ(size_of->rows, 33);
  EXPECT_EQ(size_of->columns, 101);
  EXPECT_TRUE(copy_window_size(caller.slave.get(), container.master.get()));
  struct winsize copied {};
  ASSERT_EQ(::ioctl(container.slave.get(), TIOCGWINSZ, &copied), 0);
  EXPECT_EQ(copied.ws_row, 33);
  EXPECT_EQ(copied.ws_col, 101);
  Pipe pipe = open_pipe();
  EXPECT_FALSE(copy_window_size(pipe.read.get(), container.master.get()));
  EXPECT_FALSE(window_size_of(pipe.read.get()).has_value());
}

}  // namespace
}  // namespace distill::runtime
