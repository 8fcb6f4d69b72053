// ReleaseHistory: the newest Release `Date` seen for each dists/<suite>/ URL,
// remembered in a cache directory, so that an older (but validly signed)
// Release replayed by a mirror or a man in the middle is refused instead of
// silently rolling a build back to older packages. A `Date` too far in the
// future is refused too (it would make every honest Release look old).
#pragma once

#include <ctime>
#include <filesystem>
#include <string>

#include "debian/release.hpp"
#include "util/result.hpp"

namespace distill::debian {

// How far ahead of this machine's clock a Release's Date may be.
constexpr std::time_t k_release_future_tolerance = 10 * 60;

class ReleaseHistory {
 public:
  // `dir` holds one small file per suite URL; created on first record.
  explicit ReleaseHistory(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  // Refuses (Corrupt, naming `origin`) a Release whose Date is later than
  // now + k_release_future_tolerance, or, unless `allow_rollback`, earlier
  // than the newest recorded for `suite_url`. A Release without a Date passes.
  [[nodiscard]] Status check(const std::string& suite_url, const ReleaseFile& release,
                             std::time_t now, bool allow_rollback, const std::string& origin) const;
  // Remembers the Release's Date for `suite_url` when it is the newest seen.
  // Call only for a verified Release. Best effort: failing to write costs the
  // protection, not the build.
  void record(const std::string& suite_url, const ReleaseFile& release) const;

 private:
  [[nodiscard]] std::filesystem::path file_for(const std::string& suite_url) const;
  std::filesystem::path m_dir;
};

// For a Release body taken from a cache keyed by its bytes (so verified when it
// was first used): the check above on its clear-signed payload, without
// recording. `inrelease` is the clear-signed text; `history_dir` as above.
Status check_release_replay(const std::filesystem::path& history_dir, const std::string& suite_url,
                            std::string_view inrelease, std::time_t now, bool allow_rollback);

}  // namespace distill::debian
