// Built-in flavors: the spec files in images/RELEASE/*.yaml, embedded into the
// binary at build time by src/image/embed_flavors.cmake.
//
// The flavor set follows Google's distroless images (static, base-nossl, base,
// cc, python3, nodejs, java*), one set per Debian release. A flavor's `from:`
// names a flavor of its own release. Which release a flavor name means is the
// caller's: the build's release (`--release`, else the host's). A name may
// carry its release as distroless spells it: `cc-debian13` is trixie's cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "image/spec.hpp"
#include "util/result.hpp"

namespace distill::image {

struct Flavor {
  std::string name;         // "cc"
  std::string release;      // "bookworm"
  std::string description;  // the first comment line of the YAML
  std::string_view yaml;
};

// Every built-in flavor of every release: the contract's order (static first),
// each name's releases oldest first.
const std::vector<Flavor>& builtin_flavors();

// The flavor names, each once, in the contract's order.
std::vector<std::string> flavor_names();

// The releases a flavor name exists for, oldest first (empty: no such flavor).
std::vector<std::string> flavor_releases(std::string_view name);

// Whether some release has a flavor of that name (or `name` is NAME-debianNN of one).
bool is_flavor_name(std::string_view name);

// `name` as `release` has it; a NAME-debianNN name says its release itself.
// nullptr if there is no such flavor for that release.
const Flavor* find_flavor(std::string_view name, std::string_view release);

// Parses a built-in flavor; Spec::file is empty, messages name
// "RELEASE/NAME.yaml (built-in)". An error says which releases have the name.
Result<Spec> load_flavor(std::string_view name, std::string_view release);

namespace detail {
struct EmbeddedFlavor {
  const char* name;  // "RELEASE/NAME"
  const char* yaml;
};
extern const EmbeddedFlavor k_embedded_flavors[];  // terminated by {nullptr, nullptr}
extern const size_t k_embedded_flavor_count;
}  // namespace detail

}  // namespace distill::image
