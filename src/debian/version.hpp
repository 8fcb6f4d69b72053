// Debian version comparison, exactly as dpkg does it (deb-version(7)).
//
// A version is [epoch:]upstream[-revision]. Epochs compare numerically (missing =
// 0); upstream and revision (missing = empty) compare by alternating non-digit runs
// (character order: '~' first, even before the end of the string, then the end,
// then letters, then everything else in ASCII order) and digit runs (numerically).
#pragma once

#include <string_view>

namespace distill::debian {

// <0, 0 or >0 like strcmp; same answer as `dpkg --compare-versions`.
int compare_versions(std::string_view a, std::string_view b);

// Whether dpkg would accept the version without error or warning: an optional
// numeric epoch, an upstream part starting with a digit made of [A-Za-z0-9.+~-]
// ('-' only when a revision follows), and a non-empty revision of [A-Za-z0-9.+~].
bool is_valid_version(std::string_view version);

}  // namespace distill::debian
