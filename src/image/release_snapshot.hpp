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
// The bodies are not verified here: a cache keyed by them holds only what was
// made from verified bodies, and load_repositories() verifies them (gpgv,
// suite, Date, Valid-Until) when they are used: pass fetched() as
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

  // Every body fingerprint() read, by InRelease URL.
  [[nodiscard]] const std::map<std::string, std::string>& fetched() const { return m_fetched; }

 private:
  [[nodiscard]] std::filesystem::path copy_path(const std::string& url) const;
  [[nodiscard]] std::optional<std::string> fresh_copy(const std::string& url) const;
  void keep(const std::string& url, const std::string& body) const;

  BuildEnv& m_env;
  int64_t m_max_age;
  bool m_allow_rollback;
  std::map<std::string, std::string> m_fingerprints;  // InRelease URLs -> fingerprint
  std::map<std::string, std::string> m_fetched;       // URL -> body
};

}  // namespace distill::image
