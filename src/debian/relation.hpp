// Package relationship fields (Depends, Pre-Depends, Provides, ...), Debian Policy
// §7.1: comma-separated groups of '|'-separated alternatives, each
// `name[:archqual] [(op version)] [[arch list]] [<build profiles>]`.
//
// The obsolete operators '<' and '>' mean '<=' and '>='. Architecture restrictions
// and build-profile lists only occur in source packages' build dependencies; they
// are parsed and dropped (binary package indexes never carry them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::debian {

enum class VersionOp { Any, Less /* << */, LessEqual, Equal, GreaterEqual, Greater /* >> */ };

const char* to_string(VersionOp op);

struct Relation {
  std::string name;
  std::string arch_qualifier;  // "any", "native", an architecture, or empty
  VersionOp op = VersionOp::Any;
  std::string version;  // empty when op is Any

  // "name[:arch] (op version)", the way Packages files write it.
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const Relation&, const Relation&) = default;
};

struct RelationGroup {
  std::vector<Relation> alternatives;  // never empty

  // "a (>= 1) | b".
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const RelationGroup&, const RelationGroup&) = default;
};

// Debian Policy §5.6.1: characters of [a-z0-9+.-], starting with a letter or
// digit (Policy also asks for two at least; a single one is accepted). A
// name is also a path component (status.d/<name>), so nothing else may pass:
// "..", "a/b", "".
bool is_valid_package_name(std::string_view name);

// A package as a spec names it: NAME, NAME=VERSION (exactly that version) or
// NAME:ARCH, both as NAME:ARCH=VERSION. InvalidInput ("'libc6>=9' is not a
// package name (NAME, NAME=VERSION or NAME:ARCH)") when NAME is not a package
// name, VERSION not a Debian version, or ARCH empty.
Result<Relation> parse_package_request(std::string_view text);

// Parses a whole relationship field. Empty clauses (", ,", a trailing comma) are
// skipped; a malformed relation (or an invalid package name) is InvalidInput
// naming the offending text.
Result<std::vector<RelationGroup>> parse_relations(std::string_view field);

// Whether version `candidate` satisfies `op wanted` (Any is always satisfied).
bool version_satisfies(std::string_view candidate, VersionOp op, std::string_view wanted);

}  // namespace distill::debian
