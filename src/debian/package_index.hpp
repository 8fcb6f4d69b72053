// Packages indexes (dists/<suite>/<component>/binary-<arch>/Packages): one deb822
// stanza per binary package (Debian Policy §5.3, DebianRepository/Format), and an
// in-memory index by package name and by provided (virtual) name.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crypto/sha256.hpp"
#include "debian/relation.hpp"
#include "util/result.hpp"

namespace distill::debian {

struct PackageRecord {
  std::string name, version, arch, multi_arch, source, source_version, maintainer, filename,
      section;
  bool essential = false;
  uint64_t size = 0, installed_size = 0;
  crypto::Digest sha256;
  std::vector<RelationGroup> depends, pre_depends;
  std::vector<Relation> provides;
  std::string repo_url;  // the AptSource url it came from
  std::string suite;
  std::string component;
};

// Fails on a stanza lacking Package, Version, Filename or SHA256, or with a
// malformed relation field, naming "origin:line".
Result<std::vector<PackageRecord>> parse_packages(std::string_view text, const std::string& origin);

class PackageIndex {
 public:
  using Provider = std::pair<const PackageRecord*, const Relation*>;

  void add(std::vector<PackageRecord> records);

  // Every record called `name` (all versions, suites and archs), in insertion order.
  [[nodiscard]] const std::vector<const PackageRecord*>& by_name(std::string_view name) const;
  // Every record whose Provides names `virtual_name`, with the Provides entry.
  [[nodiscard]] const std::vector<Provider>& providers(std::string_view virtual_name) const;
  [[nodiscard]] size_t size() const { return m_records.size(); }
  // "url suite" of every repository that contributed records, sorted and unique.
  [[nodiscard]] std::vector<std::string> origins() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::deque<PackageRecord> m_records;
  std::unordered_map<std::string, std::vector<const PackageRecord*>, Hash, std::equal_to<>>
      m_by_name;
  std::unordered_map<std::string, std::vector<Provider>, Hash, std::equal_to<>> m_providers;
};

}  // namespace distill::debian
