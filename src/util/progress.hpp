// Human progress on stderr: a redrawn bar on a terminal, plain lines otherwise,
// nothing with --progress none. Thread-safe; the core reports, the CLI chooses
// the mode. Machine-readable output (--json) never goes through here.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace distill::util {

class Progress {
 public:
  enum class Mode { Auto, Plain, None };
  explicit Progress(Mode mode = Mode::None);

  // A one-line message ("resolving bookworm amd64").
  void step(const std::string& message);
  // Progress of a counted activity; on a terminal redraws one line, in plain
  // mode prints only when the activity completes.
  void update(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes = 0);
  [[nodiscard]] bool enabled() const { return m_mode != Mode::None; }

 private:
  void clear_line_locked();
  Mode m_mode;
  bool m_tty = false;
  bool m_dirty = false;
  std::mutex m_mutex;
};

// A Progress that prints nothing, for callers that need none.
Progress& quiet_progress();

}  // namespace distill::util
