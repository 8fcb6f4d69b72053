// Ctrl-C and SIGTERM as a request to stop: catch_interrupts() installs
// handlers that only set a flag; long-running work (the build executor)
// checks interrupted() before starting each task, lets running ones finish,
// and returns an error, so every temporary file is removed by its owner on
// the way out. A second signal removes every registered temporary
// (interrupt_cleanup.hpp) and ends the process at once. Without
// catch_interrupts(), interrupt_cleanup's handler ends the process on the
// first signal.
#pragma once

#include "util/result.hpp"

namespace distill::util {

void catch_interrupts();
[[nodiscard]] bool interrupted();
// The signal that interrupted (SIGINT, SIGTERM), 0 if none.
[[nodiscard]] int interrupt_signal();
// An error ("interrupted") once interrupted(): what a long copy or hash asks
// between two pieces, so that a command writing files (`copy`, a build's
// outputs) stops where it is and its temporaries go with their owners. Never
// an error without catch_interrupts(), whose handler alone records a signal.
[[nodiscard]] Status check_interrupted();

}  // namespace distill::util
