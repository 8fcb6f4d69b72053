// Update candidates: the newest version of an installed package that the
// sources offer, across all their suites (the release itself, -updates,
// -security), and what kind of suite offers it.
//
// Backports and experimental are not candidates: apt never upgrades to them
// on its own (their Release says NotAutomatic), so neither does a report.
#pragma once

#include <string>
#include <string_view>

#include "debian/package_index.hpp"

namespace distill::debian {

enum class SuiteKind {
  Security,      // <release>-security (or the old <release>/updates)
  Updates,       // <release>-updates (stable-updates)
  PointRelease,  // the release itself: a newer version in a point release
  Other,         // proposed-updates and anything else
};

SuiteKind suite_kind(std::string_view suite);
// "security", "updates", "point-release", "other"
std::string_view to_string(SuiteKind kind);

// Whether a suite can offer an update at all (not backports, not experimental).
bool offers_updates(std::string_view suite);

// The newest record called `name` in `index` among the suites that offer
// updates; nullptr if there is none. Between records of the same version the
// security suite wins, then updates, then the rest (the same package usually
// lands in several suites; the most telling one is reported).
const PackageRecord* newest_candidate(const PackageIndex& index, std::string_view name);

// Whether `candidate` is newer than `installed` (dpkg's ordering).
bool is_newer(std::string_view candidate, std::string_view installed);

}  // namespace distill::debian
