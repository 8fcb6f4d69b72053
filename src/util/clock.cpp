#include "util/clock.hpp"

#include <ctime>

namespace distill::util {

namespace {

class SystemClock : public Clock {
 public:
  [[nodiscard]] int64_t now() const override { return static_cast<int64_t>(std::time(nullptr)); }
};

}  // namespace

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace distill::util
