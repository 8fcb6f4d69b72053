// option_values and the walks over the CLI11 tree: see option_values.hpp.
#include "cli/option_values.hpp"

#include <map>

#include "debian/releases.hpp"
#include "image/flavors.hpp"
#include "image/image_settings.hpp"
#include "oci/descriptor.hpp"

namespace distill::cli {

namespace {

// The words of an IsMember check, whose description CLI11 spells "{a,b,c}".
std::vector<std::string> member_words(const CLI::Option& option) {
  std::vector<std::string> words;
  // CLI11 2.1 only gives validators through a non-const accessor that throws past
  // the last one.
  auto& mutable_option = const_cast<CLI::Option&>(option);  // NOLINT
  std::string text;
  for (int i = 0; text.empty(); ++i) {
    try {
      std::string description = mutable_option.get_validator(i)->get_description();
      if (description.size() >= 2 && description.front() == '{' && description.back() == '}') {
        text = description;
      }
    } catch (const CLI::OptionNotFound&) {
      return words;
    }
  }
  std::string word;
  for (char c : text.substr(1, text.size() - 2)) {
    if (c == ',') {
      words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) {
    words.push_back(word);
  }
  return words;
}

std::vector<std::string> flavor_names() { return image::flavor_names(); }

std::vector<std::string> variant_names() {
  std::vector<std::string> names;
  for (auto variant : {image::Variant::Latest, image::Variant::Nonroot, image::Variant::Debug,
                       image::Variant::DebugNonroot}) {
    names.push_back(image::to_string(variant));
  }
  return names;
}

// Debian architectures distill maps to OCI platforms (oci/descriptor.hpp).
const std::vector<std::string>& debian_architectures() {
  static const std::vector<std::string> archs{"amd64",   "arm64", "armhf",   "armel",   "i386",
                                              "ppc64el", "s390x", "riscv64", "mips64el"};
  return archs;
}

// The OCI platforms of those architectures, as --platform spells them.
std::vector<std::string> oci_platforms() {
  std::vector<std::string> platforms;
  for (const auto& arch : debian_architectures()) {
    platforms.push_back(oci::platform_for_debian_arch(arch).str());
  }
  return platforms;
}

}  // namespace

const std::vector<std::string>& reference_transports() {
  static const std::vector<std::string> transports{
      "oci:", "oci-archive:", "docker-archive:", "docker://"};
  return transports;
}

OptionValues option_values(const std::string& command, const CLI::Option& option) {
  if (!option.get_positional() && option.get_expected_max() == 0) {
    return {ValueKind::None, {}};
  }
  std::string name =
      option.get_positional() ? option.get_name(true, false) : option_names(option).back();
  // Arguments whose meaning depends on the command.
  if (name == "--output" || name == "-o") {
    if (command == "build" || command == "copy" || command == "update") {
      return {ValueKind::Reference, reference_transports()};
    }
    if (command == "test") {
      return {ValueKind::Words, {"text", "json", "junit"}};
    }
    return {ValueKind::File, {}};
  }
  if (name == "SUBJECT" && command == "outdated") {
    std::vector<std::string> words = reference_transports();
    for (const auto& flavor : flavor_names()) {
      words.push_back(flavor);
    }
    return {ValueKind::Spec, words};
  }
  if (name == "--sources") {
    return {ValueKind::File, {}};
  }
  if (command == "diff" && (name == "A" || name == "B")) {
    return {ValueKind::Reference, reference_transports()};
  }
  if (name == "--platform") {
    return {ValueKind::Words, oci_platforms()};
  }
  if (name == "--format" && command == "sbom") {
    return {ValueKind::Words, {"spdx-json", "cyclonedx-json"}};
  }
  static const std::map<std::string, ValueKind> k_by_name{
      {"REF", ValueKind::Reference},         {"SRC", ValueKind::Reference},
      {"DST", ValueKind::Reference},         {"SPEC", ValueKind::Spec},
      {"--cache-dir", ValueKind::Directory}, {"--cert-dir", ValueKind::Directory},
      {"--lock", ValueKind::File},           {"--authfile", ValueKind::File},
      {"--lock-out", ValueKind::File},       {"--keyring", ValueKind::File},
      {"--config", ValueKind::File},         {"SHELL", ValueKind::Words},
      {"DIR", ValueKind::Directory}};
  auto found = k_by_name.find(name);
  if (found != k_by_name.end()) {
    switch (found->second) {
      case ValueKind::Reference:
        return {ValueKind::Reference, reference_transports()};
      case ValueKind::Spec:
        return {ValueKind::Spec, flavor_names()};
      case ValueKind::Words:
        return {ValueKind::Words, member_words(option)};
      default:
        return {found->second, {}};
    }
  }
  if (name == "--variant") {
    return {ValueKind::Words, variant_names()};
  }
  if (name == "--arch") {
    return {ValueKind::Words, debian_architectures()};
  }
  if (name == "--sbom-format") {
    return {ValueKind::Words, {"spdx-json", "cyclonedx-json"}};
  }
  if (name == "--release") {
    return {ValueKind::Words, debian::buildable_releases()};
  }
  std::vector<std::string> members = member_words(option);
  if (!members.empty()) {
    return {ValueKind::Words, members};
  }
  return {ValueKind::Text, {}};
}

std::vector<const CLI::Option*> visible_options(const CLI::App& app) {
  std::vector<const CLI::Option*> named;
  std::vector<const CLI::Option*> positionals;
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) {
      continue;
    }
    (option->get_positional() ? positionals : named).push_back(option);
  }
  named.insert(named.end(), positionals.begin(), positionals.end());
  return named;
}

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  std::vector<const CLI::App*> out;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) {
      out.push_back(sub);
    }
  }
  return out;
}

std::vector<std::string> option_names(const CLI::Option& option) {
  std::vector<std::string> names;
  for (const auto& name : option.get_snames()) {
    names.push_back("-" + name);
  }
  for (const auto& name : option.get_lnames()) {
    names.push_back("--" + name);
  }
  return names;
}

}  // namespace distill::cli
