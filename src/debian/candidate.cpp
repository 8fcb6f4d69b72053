// Update candidates; see candidate.hpp.
#include "debian/candidate.hpp"

#include "debian/version.hpp"

namespace distill::debian {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Higher wins a tie between two records of the same version.
int tie_rank(SuiteKind kind) {
  switch (kind) {
    case SuiteKind::Security:
      return 3;
    case SuiteKind::Updates:
      return 2;
    case SuiteKind::PointRelease:
      return 1;
    case SuiteKind::Other:
      break;
  }
  return 0;
}

}  // namespace

SuiteKind suite_kind(std::string_view suite) {
  if (ends_with(suite, "-security") || ends_with(suite, "/updates")) {
    return SuiteKind::Security;
  }
  if (ends_with(suite, "-proposed-updates")) {
    return SuiteKind::Other;
  }
  if (ends_with(suite, "-updates")) {
    return SuiteKind::Updates;
  }
  if (!suite.empty() && suite.find_first_of("-/") == std::string_view::npos) {
    return SuiteKind::PointRelease;
  }
  return SuiteKind::Other;
}

std::string_view to_string(SuiteKind kind) {
  switch (kind) {
    case SuiteKind::Security:
      return "security";
    case SuiteKind::Updates:
      return "updates";
    case SuiteKind::PointRelease:
      return "point-release";
    case SuiteKind::Other:
      break;
  }
  return "other";
}

bool offers_updates(std::string_view suite) {
  return !ends_with(suite, "-backports") && !ends_with(suite, "-backports-sloppy") &&
         suite != "experimental" && suite != "rc-buggy";
}

const PackageRecord* newest_candidate(const PackageIndex& index, std::string_view name) {
  const PackageRecord* best = nullptr;
  for (const PackageRecord* record : index.by_name(name)) {
    if (!offers_updates(record->suite)) {
      continue;
    }
    if (best == nullptr) {
      best = record;
      continue;
    }
    int order = compare_versions(record->version, best->version);
    if (order > 0 ||
        (order == 0 && tie_rank(suite_kind(record->suite)) > tie_rank(suite_kind(best->suite)))) {
      best = record;
    }
  }
  return best;
}

bool is_newer(std::string_view candidate, std::string_view installed) {
  return compare_versions(candidate, installed) > 0;
}

}  // namespace distill::debian
