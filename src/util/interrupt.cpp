#include "util/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "util/interrupt_cleanup.hpp"

namespace distill::util {

namespace {

std::atomic<int> g_signal{0};

void on_signal(int sig) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {
    remove_registered_signal_safe();  // a second signal: stop now
    ::_exit(128 + sig);
  }
}

}  // namespace

void catch_interrupts() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    if (old.sa_handler != SIG_IGN) {  // started under nohup: keep it ignored
      ::sigaction(sig, &action, nullptr);
    }
  }
}

bool interrupted() { return g_signal.load() != 0; }

int interrupt_signal() { return g_signal.load(); }

Status check_interrupted() {
  if (interrupted()) {
    return make_error(ErrorKind::Io, "interrupted");
  }
  return {};
}

}  // namespace distill::util
