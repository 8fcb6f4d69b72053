// The wall clock, as a seam: code that needs the time of day (release
// freshness, "is this Release from the future?") asks a Clock it is handed,
// so tests can pin it. Nothing read from a Clock may reach an image's bytes.
#pragma once

#include <cstdint>

namespace distill::util {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since 1970-01-01 UTC.
  [[nodiscard]] virtual int64_t now() const = 0;
};

// The system's real-time clock.
const Clock& system_clock();

// A clock that says what it is told (tests).
class FixedClock : public Clock {
 public:
  explicit FixedClock(int64_t seconds) : m_seconds(seconds) {}
  [[nodiscard]] int64_t now() const override { return m_seconds; }
  void set(int64_t seconds) { m_seconds = seconds; }

 private:
  int64_t m_seconds;
};

}  // namespace distill::util
