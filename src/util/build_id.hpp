// The GNU build ID of the running program (the linker's NT_GNU_BUILD_ID note):
// a hash of the linked program, so it changes with any change to the code.
// What a cache of the program's own output (not of its inputs alone) is keyed
// by, so that a rebuilt distill never reads what an older one wrote.
#pragma once

#include <string>

namespace distill::util {

// Lowercase hex; "" when the program was linked without one
// (--build-id=none).
const std::string& program_build_id();

}  // namespace distill::util
