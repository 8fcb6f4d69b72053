// libFuzzer target for dpkg version comparison: never crashes, and the ordering is
// reflexive and antisymmetric on arbitrary input (split at the first '\n').
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "debian/relation.hpp"
#include "debian/version.hpp"

using namespace distill::debian;

namespace {
int sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t nl = text.find('\n');
  std::string_view a = text.substr(0, nl);
  std::string_view b = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

  (void)is_valid_version(a);
  (void)is_valid_version(b);
  if (compare_versions(a, a) != 0 || compare_versions(b, b) != 0) {
    std::abort();
  }
  if (sign(compare_versions(a, b)) != -sign(compare_versions(b, a))) {
    std::abort();
  }
  if (version_satisfies(a, VersionOp::Less, b) ==
      version_satisfies(a, VersionOp::GreaterEqual, b)) {
    std::abort();
  }
  return 0;
}
