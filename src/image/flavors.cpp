// Built-in flavors: wraps the generated table of images/*.yaml (see flavors.hpp).
#include "image/flavors.hpp"

#include <algorithm>

namespace distill::image {
namespace {

int rank(std::string_view name) {
  static constexpr std::string_view k_order[] = {"static",  "base-nossl", "base",  "cc",
                                                 "python3", "nodejs",     "java17"};
  for (size_t i = 0; i < std::size(k_order); ++i) {
    if (k_order[i] == name) {
      return static_cast<int>(i);
    }
  }
  return static_cast<int>(std::size(k_order));
}

std::string first_comment(std::string_view yaml) {
  if (yaml.substr(0, 1) != "#") {
    return {};
  }
  std::string_view line = yaml.substr(0, yaml.find('\n'));
  line.remove_prefix(1);
  while (!line.empty() && line.front() == ' ') {
    line.remove_prefix(1);
  }
  return std::string(line);
}

}  // namespace

const std::vector<Flavor>& builtin_flavors() {
  static const std::vector<Flavor> flavors = [] {
    std::vector<Flavor> out;
    for (size_t i = 0; i < detail::k_embedded_flavor_count; ++i) {
      const auto& embedded = detail::k_embedded_flavors[i];
      out.push_back(Flavor{embedded.name, first_comment(embedded.yaml), embedded.yaml});
    }
    std::stable_sort(out.begin(), out.end(), [](const Flavor& a, const Flavor& b) {
      int ra = rank(a.name);
      int rb = rank(b.name);
      return ra != rb ? ra < rb : a.name < b.name;
    });
    return out;
  }();
  return flavors;
}

const Flavor* find_flavor(std::string_view name) {
  for (const auto& flavor : builtin_flavors()) {
    if (flavor.name == name) {
      return &flavor;
    }
  }
  return nullptr;
}

Result<Spec> load_flavor(std::string_view name) {
  const Flavor* flavor = find_flavor(name);
  if (flavor == nullptr) {
    std::string known;
    for (const auto& f : builtin_flavors()) {
      known += known.empty() ? f.name : ", " + f.name;
    }
    return make_error(ErrorKind::NotFound,
                      "no built-in flavor '" + std::string(name) + "' (known: " + known + ")");
  }
  return parse_spec_text(flavor->yaml, flavor->name + ".yaml (built-in)", "/");
}

}  // namespace distill::image
