#include "util/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace distill::util {

Progress::Progress(Mode mode) : m_mode(mode) {
  if (m_mode == Mode::Auto) {
    m_tty = ::isatty(STDERR_FILENO) != 0;
    m_mode = Mode::Plain;
  }
}

void Progress::clear_line_locked() {
  if (m_dirty) {
    std::fputs("\r\033[K", stderr);
    m_dirty = false;
  }
}

void Progress::step(const std::string& message) {
  if (m_mode == Mode::None) {
    return;
  }
  std::lock_guard lock(m_mutex);
  clear_line_locked();
  std::fprintf(stderr, "%s\n", message.c_str());
}

void Progress::update(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes) {
  if (m_mode == Mode::None) {
    return;
  }
  std::lock_guard lock(m_mutex);
  double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  if (m_tty) {
    constexpr int k_width = 30;
    int filled = total == 0 ? k_width : static_cast<int>(done * k_width / total);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(k_width, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %llu/%llu %.1f MiB", label.c_str(), bar.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 mib);
    m_dirty = true;
    if (done >= total) {
      std::fputc('\n', stderr);
      m_dirty = false;
    }
    std::fflush(stderr);
  } else if (done >= total) {
    std::fprintf(stderr, "%s: %llu/%llu done (%.1f MiB)\n", label.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 mib);
  }
}

Progress& quiet_progress() {
  static Progress progress(Progress::Mode::None);
  return progress;
}

}  // namespace distill::util
