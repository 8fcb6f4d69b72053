// libFuzzer target for the control record a build keeps in its cache
// (image/package_control.hpp): any bytes are refused or read, never a crash
// or a read past the input; what is read writes back to a record that reads
// the same again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/package_control.hpp"

using namespace distill::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto control = parse_control_record(bytes);
  if (!control) {
    return 0;
  }
  if (control->control.empty() || control->control.size() + control->md5sums.size() > size) {
    std::abort();
  }
  auto again = parse_control_record(control_record(*control));
  if (!again || again->control != control->control || again->md5sums != control->md5sums) {
    std::abort();
  }
  return 0;
}
