// Packages indexes (dists/<suite>/<component>/binary-<arch>/Packages): one deb822
// stanza per binary package (Debian Policy §5.3, DebianRepository/Format), and an
// in-memory index by package name and by provided (virtual) name.
//
// A whole archive's index holds ~65k stanzas of which a build needs a few
// hundred, so the index keeps a compacted text (PackagesText) and a stanza
// becomes a PackageRecord the first time a lookup reaches it. That keeps a
// resolution's memory below the size of the file instead of several times it,
// and skips parsing what is never read.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "archive/byte_sink.hpp"
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
  std::vector<Relation> conflicts, breaks;  // Policy §7.3, §7.4: never installed together
  std::string repo_url;                     // the AptSource url it came from
  std::string suite;
  std::string component;
};

// Fails on a stanza lacking Package, Version, Filename or SHA256, or with a
// malformed relation field, naming "origin:line".
Result<std::vector<PackageRecord>> parse_packages(std::string_view text, const std::string& origin);

// A Packages file reduced, as it streams in, to the fields a PackageRecord
// reads (about 60% of bookworm main's 50 MB), with each stanza's name, place
// and first line: what PackageIndex keeps. Fails like parse_packages on a
// stanza lacking Package, Version, Filename or SHA256, or with a malformed
// Provides, naming "origin:line".
//
// Bounded against hostile input (an "index bomb"): more than `max_size` bytes
// in all (the size the signed Release declares for the uncompressed file; 0 =
// no bound) or one stanza longer than k_max_stanza fail at once, so memory
// stays within those bounds, and scanning is linear in the bytes written.
class PackagesText final : public archive::ByteSink {
 public:
  // Debian's largest stanzas are a few tens of KiB (long Provides lists).
  static constexpr size_t k_max_stanza = size_t{1} << 20;

  explicit PackagesText(std::string origin, size_t expected_size = 0, uint64_t max_size = 0);
  Status write(const void* data, size_t size) override;
  using ByteSink::write;
  Status finish() override;

  struct Stanza {
    size_t begin = 0, end = 0;  // in the compact text
    size_t name_begin = 0;      // the Package field's value, in the compact text
    uint32_t name_size = 0;
    uint32_t line = 0;  // first line in the original file
  };

 private:
  friend class PackageIndex;
  Status scan(std::string_view complete);

  std::string m_origin;
  uint64_t m_max_size = 0;
  uint64_t m_written = 0;
  std::string m_pending;  // what follows the last complete stanza
  uint32_t m_lines = 0;   // lines before m_pending
  std::string m_compact;
  std::vector<Stanza> m_stanzas;
  // (hash of a name in a Provides field, index in m_stanzas) for each one
  std::vector<std::pair<uint64_t, uint32_t>> m_provided;
  bool m_finished = false;
};

// Where a Packages text came from: stamped on the records made from it.
struct IndexOrigin {
  std::string url;  // of the Packages file, for error messages
  std::string repo_url, suite, component;
};

class PackageIndex {
 public:
  using Provider = std::pair<const PackageRecord*, const Relation*>;

  void add(std::vector<PackageRecord> records);
  // Keeps a finished PackagesText and indexes its stanzas; they are parsed on
  // first lookup.
  void add(PackagesText text, IndexOrigin origin);
  // The same for a whole Packages file in memory.
  Status add_text(std::string_view text, IndexOrigin origin);

  // Every record called `name` (all versions, suites and archs), in insertion order.
  [[nodiscard]] const std::vector<const PackageRecord*>& by_name(std::string_view name) const;
  // Every record whose Provides names `virtual_name`, with the Provides entry.
  [[nodiscard]] const std::vector<Provider>& providers(std::string_view virtual_name) const;
  [[nodiscard]] size_t size() const { return m_stanzas.size(); }
  // The name of every record (once per record, so a name may repeat), for
  // suggesting one to a misspelt request; valid while the index lives.
  [[nodiscard]] std::vector<std::string_view> names() const;
  // "url suite" of every repository that contributed records, sorted and unique;
  // or what describe_source() said, alone.
  [[nodiscard]] std::vector<std::string> origins() const;
  // Names where all the records come from, for messages, when that is not a
  // repository (a lock file).
  void describe_source(std::string what);
  // The first error met while parsing a stanza on lookup (a malformed Depends,
  // say): that stanza is left out of the lookups, and the caller must fail.
  [[nodiscard]] Status status() const;

 private:
  // One package stanza: parsed already (record), or where it is in a kept
  // text (`in`: its range, its name's and its first line).
  struct Stanza {
    const PackageRecord* record = nullptr;
    uint32_t text = 0;
    PackagesText::Stanza in;
  };
  // A name's hash and a stanza called so (or providing it), sorted by
  // (hash, stanza) before a lookup, so a name's stanzas are one range in
  // insertion order: ~65k of them cost one vector, not a node each, to build
  // and to free (cold builds wait for both).
  struct NameRef {
    uint64_t hash = 0;
    uint32_t stanza = 0;
    bool operator<(const NameRef& o) const {
      return hash != o.hash ? hash < o.hash : stanza < o.stanza;
    }
  };
  struct NameRefs {
    std::vector<NameRef> refs;
    bool sorted = true;
    void add(uint64_t hash, uint32_t stanza);
    // The stanzas of `name`'s hash (sorting first if needed), each once.
    std::vector<uint32_t> stanzas(std::string_view name);
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // What a name looked up once resolved to, kept so that the references
  // by_name() and providers() return stay valid.
  template <class T>
  using Resolved = std::unordered_map<std::string, std::vector<T>, Hash, std::equal_to<>>;

  [[nodiscard]] std::string_view name_of(const Stanza& stanza) const;
  const PackageRecord* materialize(Stanza& stanza) const;

  std::deque<std::string> m_texts;
  std::vector<IndexOrigin> m_origins;  // parallel to m_texts
  std::string m_source;                // describe_source()
  mutable std::deque<PackageRecord> m_records;
  mutable std::vector<Stanza> m_stanzas;
  mutable NameRefs m_names;     // Package: names
  mutable NameRefs m_provided;  // names in Provides: fields
  mutable Resolved<const PackageRecord*> m_by_name;
  mutable Resolved<Provider> m_providers;
  mutable std::optional<Error> m_error;
  mutable std::unique_ptr<std::mutex> m_mutex = std::make_unique<std::mutex>();
};

}  // namespace distill::debian
