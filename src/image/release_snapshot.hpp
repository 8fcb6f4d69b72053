// The signed Release files of a set of apt sources as the mirror has them
// now: what both `build` (resolutions are cached under their bytes) and
// `outdated` (candidates are) start from, so both see the same mirror state
// and refuse the same replays.
//
// A copy fetched less than `max_age` seconds ago (by the environment's clock)
// stands for the mirror's current one: mirrors change a few times a day, and
// an immediate rebuild then needs no network round trip at all (`--refresh`
// sets max_age 0). A body fetched now is checked against the newest Release
// Date seen for its suite (a replayed older Release is refused) and kept.
//
// Beside each copy, a record of its SHA-256 and Date, and of the size, inode
// and change time it had when they were taken: while those still match, a warm build
// neither reads nor hashes the copy (three suites' InRelease are 240 KiB,
// about 1 ms of a warm base build's serial start). A body is read only when
// something needs it (bodies()), and must then still have the recorded digest.
//
// The bodies are not verified here: a cache keyed by them holds only what was
// made from verified bodies, and load_repositories() verifies them (gpgv,
// suite, Date, Valid-Until) when they are used: pass bodies() as
// RepositoryOptions::fetched_inrelease so it reads no URL a second time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "debian/apt_sources.hpp"
#include "image/env.hpp"
#include "util/result.hpp"

namespace distill::image {

class ReleaseSnapshot {
 public:
  ReleaseSnapshot(BuildEnv& env, int64_t max_age, bool allow_rollback)
      : m_env(env), m_max_age(max_age), m_allow_rollback(allow_rollback) {}

  // A digest of the InRelease bodies of every suite of `sources`; NotFound
  // naming the URL when one is not available. Memoized per process.
  Result<std::string> fingerprint(const std::vector<debian::AptSource>& sources);

  // Every body fingerprint() took, by InRelease URL: those it did not read
  // are read now, and an error names a copy that changed since.
  Result<const std::map<std::string, std::string>*> bodies();

  // The Date field of every body fingerprint() took, by InRelease URL.
  [[nodiscard]] std::map<std::string, std::string> dates() const;

 private:
  // What fingerprint() knows of one URL's body.
  struct Known {
    std::string sha256;  // hex
    std::string date;    // its Date field
  };

  [[nodiscard]] std::filesystem::path copy_path(const std::string& url) const;
  // The fresh copy's digest and Date: from its record where that still
  // matches the copy, else from the copy itself, which is then recorded and
  // kept in m_bodies.
  [[nodiscard]] std::optional<Known> fresh_copy(const std::string& url);
  void keep(const std::string& url, const std::string& body, const Known& known) const;

  BuildEnv& m_env;
  int64_t m_max_age;
  bool m_allow_rollback;
  std::map<std::string, std::string> m_fingerprints;  // InRelease URLs -> fingerprint
  std::map<std::string, Known> m_known;               // URL -> its body's digest, Date
  std::map<std::string, std::string> m_bodies;        // URL -> body, once read
};

}  // namespace distill::image
