// Built-in flavors: the spec files in images/*.yaml, embedded into the binary.
//
// The flavor set follows CONTRACT.md (static, base-nossl, base, cc, python3, nodejs,
// java17) and /work/shared/reference/distroless.md; the YAML is generated into
// flavors_data.cpp at build time by src/image/embed_flavors.cmake.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "image/spec.hpp"
#include "util/result.hpp"

namespace distill::image {

struct Flavor {
  std::string name;
  std::string description;  // the first comment line of the YAML
  std::string_view yaml;
};

// Every built-in flavor, in the contract's order (static first).
const std::vector<Flavor>& builtin_flavors();

// nullptr if there is no such flavor.
const Flavor* find_flavor(std::string_view name);

// Parses a built-in flavor; Spec::file is empty, messages name "NAME.yaml (built-in)".
Result<Spec> load_flavor(std::string_view name);

namespace detail {
struct EmbeddedFlavor {
  const char* name;
  const char* yaml;
};
extern const EmbeddedFlavor k_embedded_flavors[];  // terminated by {nullptr, nullptr}
extern const size_t k_embedded_flavor_count;
}  // namespace detail

}  // namespace distill::image
