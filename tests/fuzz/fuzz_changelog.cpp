// libFuzzer target for the Debian changelog parser: never crashes, and what it
// returns holds together (every entry has a package and a version, CVE
// identifiers have their shape, an urgency ranks within 0..5).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "debian/changelog.hpp"

using namespace distill::debian;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& entry : parse_changelog(text)) {
    if (entry.package.empty() || entry.version.empty() || entry.line == 0) {
      std::abort();
    }
    int rank = urgency_rank(entry.urgency);
    if (rank < 0 || rank > 5) {
      std::abort();
    }
    for (const auto& id : cve_ids(entry)) {
      if (id.size() < 13 || id.compare(0, 4, "CVE-") != 0 || id[8] != '-') {
        std::abort();
      }
    }
  }
  for (const auto& id : cve_ids(text)) {
    if (id.size() < 13 || id.compare(0, 4, "CVE-") != 0) {
      std::abort();
    }
  }
  return 0;
}
