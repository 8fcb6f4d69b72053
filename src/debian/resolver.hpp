// Dependency resolution: the set of binary packages to install for a request,
// closed under Depends and Pre-Depends (Debian Policy §7.2; Recommends and
// Suggests are not installed, as image builders do).
//
// Strategy (greedy, deterministic, no backtracking):
//  - the highest version that satisfies a relation wins, whatever suite it comes
//    from (apt's behaviour with default pins);
//  - a single-arch image looks for packages of the target architecture and of
//    `Architecture: all`; `:any`/`:native`/`:<target>` qualifiers are accepted,
//    other architectures are not installable;
//  - a relation is already satisfied by a selected package, by a package from
//    `installed` (the base image; its Provides count when the index has that
//    version), or when its name is excluded;
//  - single-alternative clauses are processed first; clauses with alternatives
//    are decided last, so an alternative that something else pulled in wins;
//    otherwise the first alternative that can be satisfied is taken;
//  - virtual packages are satisfied through Provides; an unversioned provide never
//    satisfies a versioned relation; a real package is preferred to a provider;
//  - the same package is never selected at two versions: a clause that needs a
//    different version than the one already chosen is an error;
//  - a set where one package Conflicts with or Breaks another (or a package of
//    the base image) is refused, naming both, as dpkg would refuse it; the
//    greedy choice is not revisited to avoid it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "debian/package_index.hpp"
#include "util/result.hpp"

namespace distill::debian {

struct ResolveRequest {
  std::vector<std::string> packages;  // "name", "name=version", "name:arch[=version]"
  std::vector<std::string> exclude;   // never installed; relations on them count as satisfied
  std::string arch;                   // e.g. amd64
  // (name, version) already present in the base image: they satisfy relations and
  // are not installed again.
  std::vector<std::pair<std::string, std::string>> installed;
};

// The packages to install, sorted by name. Errors (InvalidInput) name the chain of
// packages that led to an unsatisfiable relation.
Result<std::vector<const PackageRecord*>> resolve(const PackageIndex& index,
                                                  const ResolveRequest& request);

}  // namespace distill::debian
