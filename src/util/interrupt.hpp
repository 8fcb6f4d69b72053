// Ctrl-C and SIGTERM as a request to stop: catch_interrupts() installs
// handlers that only set a flag; long-running work (the build executor)
// checks interrupted() before starting each task, lets running ones finish,
// and returns an error, so every temporary file is removed by its owner on
// the way out. A second signal removes every registered temporary
// (interrupt_cleanup.hpp) and ends the process at once. Without
// catch_interrupts(), interrupt_cleanup's handler ends the process on the
// first signal.
#pragma once

namespace distill::util {

void catch_interrupts();
[[nodiscard]] bool interrupted();
// The signal that interrupted (SIGINT, SIGTERM), 0 if none.
[[nodiscard]] int interrupt_signal();

}  // namespace distill::util
