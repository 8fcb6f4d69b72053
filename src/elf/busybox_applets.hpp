// The applet names a busybox binary provides, read from its bytes (never by
// running it, so an arm64 binary is read on amd64 alike).
//
// busybox's build generates `applet_names` (include/applet_tables.h, written by
// applets/applet_tables.c): every applet name, sorted by strcmp, each ended by a
// NUL, packed into .rodata ("[\0[[\0acpid\0...\0zcat\0\0"); `busybox --list`
// prints that table. It is found here as the longest run of NUL-ended names in
// strictly increasing order, a name being 1 to 32 bytes of [a-z0-9._-] or
// brackets. Other strings in a binary do not form long sorted runs, so the table
// stands out; the whole file is scanned (section headers are not needed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::elf {

// Fewer names than this is not an applet table (a busybox has over a hundred).
inline constexpr size_t k_min_busybox_applets = 8;

// The applet names of the busybox binary `data`, in table (sorted) order; an
// error naming `origin` when no run of at least k_min_busybox_applets names is found.
Result<std::vector<std::string>> busybox_applets(std::string_view data, const std::string& origin);

}  // namespace distill::elf
