// The bytes between the caller and a container's pseudo-terminal for `distill run
// -t`: the caller's input (with -i) goes to the pty master, what the container
// writes to its terminal comes back to the caller's output. The master is
// non-blocking and pending input is held back rather than written blocking, so a
// container that stops reading never stalls the loop (which must keep seeing
// signals and the container's exit). End of input (a closed pipe; a terminal in
// raw mode sends Ctrl-D as a byte instead) is passed on as the terminal's EOF
// character, so a shell reading a line sees end of file as it would on a terminal.
#pragma once

#include <chrono>
#include <string>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace distill::runtime {

class ConsoleRelay {
 public:
  // `input` < 0: nothing is read (run -t without -i). Sets the master non-blocking.
  ConsoleRelay(util::Fd master, int input, int output);

  [[nodiscard]] int master() const { return m_master.get(); }

  // Waits at most `timeout` for the master, the input or `wake` (a fd the caller
  // reads itself, e.g. a signal pipe; < 0 for none) and moves what is ready.
  // False once the master is closed: every process holding the pty's other side
  // has gone (read gives EIO).
  Result<bool> pump(std::chrono::milliseconds timeout, int wake);

  // Copies what the container wrote and the loop has not read yet (after its exit).
  void drain_output();

 private:
  Result<bool> read_master();
  Status read_input();
  Status write_pending();

  util::Fd m_master;
  int m_input;
  int m_output;
  bool m_input_open;
  bool m_master_open = true;
  std::string m_pending;  // input not yet taken by the master
};

}  // namespace distill::runtime
