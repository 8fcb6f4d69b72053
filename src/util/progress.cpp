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

void Progress::warn(const std::string& message) {
  std::lock_guard lock(m_mutex);
  clear_line_locked();
  std::fprintf(stderr, "distill: warning: %s\n", message.c_str());
}

void Progress::update(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes) {
  if (m_mode == Mode::None) {
    return;
  }
  std::lock_guard lock(m_mutex);
  auto now = std::chrono::steady_clock::now();
  auto started = m_started.try_emplace(label, now).first->second;
  double seconds = std::chrono::duration<double>(now - started).count();
  if (m_tty) {
    constexpr int k_width = 30;
    int filled = total == 0 ? k_width : static_cast<int>(done * k_width / total);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(k_width, '.');
    std::string rate = format_rate(bytes, seconds);
    std::fprintf(stderr, "\r\033[K%s [%s] %llu/%llu %s%s", label.c_str(), bar.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 format_bytes(bytes).c_str(), rate.empty() ? "" : (", " + rate).c_str());
    m_dirty = true;
    if (done >= total) {
      std::fputc('\n', stderr);
      m_dirty = false;
    }
    std::fflush(stderr);
  } else if (done >= total) {
    std::fprintf(stderr, "%s\n", completion_line(label, done, total, bytes, seconds).c_str());
  }
  if (done >= total) {
    m_started.erase(label);
  }
}

std::string format_bytes(uint64_t bytes) {
  char text[32];
  double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  if (bytes >= 1024ULL * 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.2f GiB", mib / 1024.0);
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", mib);
  }
  return text;
}

std::string format_rate(uint64_t bytes, double seconds) {
  if (seconds < 0.05 || bytes == 0) {
    return "";
  }
  return format_bytes(static_cast<uint64_t>(static_cast<double>(bytes) / seconds)) + "/s";
}

std::string completion_line(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes,
                            double seconds) {
  char time[32];
  std::snprintf(time, sizeof time, "%.1f s", seconds);
  std::string rate = format_rate(bytes, seconds);
  return label + ": " + std::to_string(done) + "/" + std::to_string(total) + " done (" +
         format_bytes(bytes) + " in " + time + (rate.empty() ? "" : ", " + rate) + ")";
}

Progress& quiet_progress() {
  static Progress progress(Progress::Mode::None);
  return progress;
}

}  // namespace distill::util
