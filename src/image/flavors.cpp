// Built-in flavors: wraps the generated table of images/RELEASE/*.yaml (see flavors.hpp).
#include "image/flavors.hpp"

#include <algorithm>

#include "debian/releases.hpp"

namespace distill::image {
namespace {

int rank(std::string_view name) {
  static constexpr std::string_view k_order[] = {
      "static", "base-nossl", "base", "cc", "python3", "nodejs", "java17", "java21", "java25"};
  for (size_t i = 0; i < std::size(k_order); ++i) {
    if (k_order[i] == name) {
      return static_cast<int>(i);
    }
  }
  return static_cast<int>(std::size(k_order));
}

int release_rank(std::string_view release) {
  const auto& all = debian::buildable_releases();
  return static_cast<int>(std::find(all.begin(), all.end(), release) - all.begin());
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

// "cc-debian13" -> {"cc", "trixie"}; any other name -> {name, ""}.
std::pair<std::string, std::string> split_release_suffix(std::string_view name) {
  for (const auto& release : debian::buildable_releases()) {
    std::string suffix = "-debian" + debian::version_id(release);
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      return {std::string(name.substr(0, name.size() - suffix.size())), release};
    }
  }
  return {std::string(name), ""};
}

}  // namespace

const std::vector<Flavor>& builtin_flavors() {
  static const std::vector<Flavor> flavors = [] {
    std::vector<Flavor> out;
    for (size_t i = 0; i < detail::k_embedded_flavor_count; ++i) {
      const auto& embedded = detail::k_embedded_flavors[i];
      std::string_view full = embedded.name;
      size_t slash = full.find('/');
      out.push_back(Flavor{std::string(full.substr(slash + 1)), std::string(full.substr(0, slash)),
                           first_comment(embedded.yaml), embedded.yaml});
    }
    std::stable_sort(out.begin(), out.end(), [](const Flavor& a, const Flavor& b) {
      int ra = rank(a.name);
      int rb = rank(b.name);
      if (ra != rb) {
        return ra < rb;
      }
      if (a.name != b.name) {
        return a.name < b.name;
      }
      return release_rank(a.release) < release_rank(b.release);
    });
    return out;
  }();
  return flavors;
}

std::vector<std::string> flavor_names() {
  std::vector<std::string> names;
  for (const auto& flavor : builtin_flavors()) {
    if (names.empty() || names.back() != flavor.name) {
      names.push_back(flavor.name);
    }
  }
  return names;
}

std::vector<std::string> flavor_releases(std::string_view name) {
  std::vector<std::string> releases;
  for (const auto& flavor : builtin_flavors()) {
    if (flavor.name == name) {
      releases.push_back(flavor.release);
    }
  }
  return releases;
}

bool is_flavor_name(std::string_view name) {
  auto [bare, release] = split_release_suffix(name);
  return release.empty() ? !flavor_releases(bare).empty() : find_flavor(name, release) != nullptr;
}

const Flavor* find_flavor(std::string_view name, std::string_view release) {
  auto [bare, named_release] = split_release_suffix(name);
  std::string_view wanted = named_release.empty() ? release : std::string_view(named_release);
  for (const auto& flavor : builtin_flavors()) {
    if (flavor.name == bare && flavor.release == wanted) {
      return &flavor;
    }
  }
  return nullptr;
}

Result<Spec> load_flavor(std::string_view name, std::string_view release) {
  const Flavor* flavor = find_flavor(name, release);
  if (flavor == nullptr) {
    auto [bare, named_release] = split_release_suffix(name);
    auto releases = flavor_releases(bare);
    if (!releases.empty()) {
      std::string list;
      for (const auto& r : releases) {
        list += (list.empty() ? "" : ", ") + r;
      }
      // The way out: the release that has it, by flag or by name.
      const std::string& other = releases.back();
      return make_error(ErrorKind::NotFound,
                        "the built-in flavor '" + bare + "' has no " +
                            (named_release.empty() ? std::string(release) : named_release) +
                            " version (it exists for " + list + "; use --release " + other +
                            " or " + bare + "-debian" + debian::version_id(other) + ")");
    }
    std::string known;
    for (const auto& n : flavor_names()) {
      known += known.empty() ? n : ", " + n;
    }
    return make_error(ErrorKind::NotFound,
                      "no built-in flavor '" + std::string(name) + "' (known: " + known + ")");
  }
  return parse_spec_text(flavor->yaml, flavor->release + "/" + flavor->name + ".yaml (built-in)",
                         "/");
}

}  // namespace distill::image
