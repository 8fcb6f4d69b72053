// The `from:` chain of a spec: the one place that decides what a `from:`
// value names, with one precedence rule for the command line and for specs.
//
// A value is, in this order:
//  1. an image reference, when it starts with a transport
//     (oci:, oci-archive:, docker-archive:, docker://);
//  2. a spec file, when a regular file of that name exists, relative to the
//     directory of the spec that names it (to the working directory on the
//     command line); built-in flavors name only flavors;
//  3. a built-in flavor (`distill flavors`) of the build's release; a
//     flavor's own `from:` names a flavor of its release;
//  4. else an error naming the spec, line and value.
// A chain that comes back to a spec it already passed through is a cycle,
// reported with every file in it; a chain deeper than k_max_chain_depth
// (without a cycle) is reported as too deep.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/spec.hpp"
#include "util/result.hpp"

namespace distill::image {

inline constexpr size_t k_max_chain_depth = 64;

struct SpecChain {
  std::vector<Spec> specs;  // the base first, the requested spec last
  // The image reference the first spec's `from:` names, if it names one.
  std::optional<std::string> image_base;
};

bool is_image_reference(std::string_view value);

// Loads `spec_or_flavor` (as given on the command line) and its bases; flavor
// names mean `release`'s flavors (see flavors.hpp).
Result<SpecChain> load_chain(const std::string& spec_or_flavor, const std::string& release);

}  // namespace distill::image
