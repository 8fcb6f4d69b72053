// Bounds-checked reader for Unix ar archives (the .deb container, deb(5)).
//
// Handles the common format ("!<arch>\n", 60-byte headers, 2-byte alignment),
// GNU names ("name/" and "//" long-name tables with "/123" references), BSD
// "#1/<len>" names (the name is stored before the data and excluded from the
// member), and skips the "/" and "/SYM64/" symbol tables. Sizes are never trusted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::archive {

struct ArMember {
  std::string name;     // without the GNU trailing '/'
  uint64_t offset = 0;  // of the data, from the start of the archive
  uint64_t size = 0;    // of the data
};

Result<std::vector<ArMember>> parse_ar(std::string_view data, const std::string& origin);

}  // namespace distill::archive
