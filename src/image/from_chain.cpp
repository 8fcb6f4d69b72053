#include "image/from_chain.hpp"

#include <algorithm>
#include <filesystem>

#include "image/flavors.hpp"
#include "oci/image_ref.hpp"
#include "util/nearest_word.hpp"

namespace distill::image {

namespace {

// What a chain has passed through, to tell a cycle from a deep chain.
std::string identity(const Spec& spec) {
  if (spec.file.empty()) {
    return "flavor:" + spec.display_name;
  }
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(spec.file, ec);
  return "file:" + (ec ? spec.file.string() : canonical.string());
}

bool is_spec_file(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

// A loaded spec, and the release of images/RELEASE/ when it is a flavor.
struct Named {
  Spec spec;
  std::string flavor_release;
};

// The spec a `from:` value of `referrer` names (referrer null: the command
// line). Flavors are `release`'s: the build's release, or the referring
// flavor's own.
Result<Named> load_named(const std::string& value, const Spec* referrer,
                         const std::string& release) {
  bool from_flavor = referrer != nullptr && referrer->file.empty();
  if (!from_flavor) {
    std::filesystem::path candidate = value;
    if (referrer != nullptr && candidate.is_relative()) {
      candidate = referrer->file.parent_path() / candidate;
    }
    if (is_spec_file(candidate)) {
      DISTILL_TRY(Spec spec, load_spec(candidate));
      return Named{std::move(spec), ""};
    }
  }
  if (is_flavor_name(value)) {
    auto flavor = load_flavor(value, release);
    if (!flavor.ok()) {
      return referrer == nullptr ? std::move(flavor).error()
                                 : std::move(flavor).error().context(referrer->where("from"));
    }
    return Named{std::move(*flavor), find_flavor(value, release)->release};
  }
  const std::string suggestion = util::did_you_mean(util::nearest_word(value, flavor_names()));
  if (referrer == nullptr) {
    return make_error(ErrorKind::InvalidInput,
                      "usage: " + value + ": no such spec file or built-in flavor" +
                          (suggestion.empty() ? " (see `distill flavors`)" : suggestion));
  }
  return make_error(ErrorKind::NotFound,
                    referrer->where("from") + ": '" + value +
                        "' is not a flavor, a spec file or an image reference" + suggestion);
}

// What can be known of an image base before the cache is opened: that its
// reference parses and, on the local transports, that its file or directory
// is there (the plan reads it; a registry's answer waits for the plan too).
Status check_image_base(const Spec& spec) {
  auto ref = oci::ImageRef::parse(spec.from);
  if (!ref.ok()) {
    return ref.error().context(spec.where("from"));
  }
  std::error_code ec;
  if (ref->transport != oci::ImageRef::Transport::Registry &&
      !std::filesystem::exists(ref->path, ec)) {
    return make_error(ErrorKind::NotFound, spec.where("from") + ": " + spec.from + ": " +
                                               ref->path.string() + " does not exist");
  }
  return {};
}

}  // namespace

bool is_image_reference(std::string_view value) {
  for (std::string_view transport : {"oci:", "oci-archive:", "docker-archive:", "docker://"}) {
    if (value.substr(0, transport.size()) == transport) {
      return true;
    }
  }
  return false;
}

Result<SpecChain> load_chain(const std::string& spec_or_flavor, const std::string& release) {
  SpecChain chain;
  DISTILL_TRY(Named top, load_named(spec_or_flavor, nullptr, release));
  std::string flavor_release = top.flavor_release;
  std::vector<std::string> seen{identity(top.spec)};
  chain.specs.push_back(std::move(top.spec));
  while (!chain.specs.back().from.empty()) {
    const Spec& current = chain.specs.back();
    if (is_image_reference(current.from)) {
      DISTILL_CHECK(check_image_base(current));
      chain.image_base = current.from;
      break;
    }
    if (chain.specs.size() >= k_max_chain_depth) {
      return make_error(ErrorKind::InvalidInput, current.where("from") +
                                                     ": `from:` chain deeper than " +
                                                     std::to_string(k_max_chain_depth) + " specs");
    }
    DISTILL_TRY(Named named, load_named(current.from, &current,
                                        flavor_release.empty() ? release : flavor_release));
    Spec& base = named.spec;
    flavor_release = named.flavor_release;
    std::string id = identity(base);
    auto again = std::find(seen.begin(), seen.end(), id);
    if (again != seen.end()) {
      // Name every spec of the cycle, where each names the next.
      std::string cycle;
      for (auto i = static_cast<size_t>(again - seen.begin()); i < chain.specs.size(); ++i) {
        cycle += chain.specs[i].where("from") + " -> ";
      }
      cycle += base.display_name;
      return make_error(ErrorKind::InvalidInput, "`from:` cycle: " + cycle);
    }
    seen.push_back(std::move(id));
    chain.specs.push_back(std::move(base));
  }
  std::reverse(chain.specs.begin(), chain.specs.end());
  return chain;
}

}  // namespace distill::image
