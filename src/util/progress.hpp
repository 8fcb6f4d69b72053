// Human progress on stderr: a redrawn bar on a terminal, plain lines otherwise,
// nothing with --progress none. Thread-safe; the core reports, the CLI chooses
// the mode. Machine-readable output (--json) never goes through here.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace distill::util {

class Progress {
 public:
  enum class Mode { Auto, Plain, None };
  explicit Progress(Mode mode = Mode::None);

  // A one-line message ("resolving bookworm amd64").
  void step(const std::string& message);
  // "distill: warning: MESSAGE", in every mode (--progress none too): something
  // went wrong that the command works around.
  void warn(const std::string& message);
  // Progress of a counted activity; on a terminal redraws one line with the
  // bytes so far and the rate since the label's first update, in plain mode
  // prints only when the activity completes (with bytes, time and rate).
  void update(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes = 0);
  [[nodiscard]] bool enabled() const { return m_mode != Mode::None; }

 private:
  void clear_line_locked();
  Mode m_mode;
  std::map<std::string, std::chrono::steady_clock::time_point> m_started;  // by label
  bool m_tty = false;
  bool m_dirty = false;
  std::mutex m_mutex;
};

// "3.4 MiB" style sizes and "12.1 MiB/s" rates ("" when under 0.05 s, too short
// to mean anything), as the progress lines print them.
std::string format_bytes(uint64_t bytes);
std::string format_rate(uint64_t bytes, double seconds);
// The plain-mode line of a completed activity:
// "downloading: 30/30 done (78.9 MiB in 6.5 s, 12.1 MiB/s)".
std::string completion_line(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes,
                            double seconds);

// A Progress that prints nothing, for callers that need none.
Progress& quiet_progress();

}  // namespace distill::util
