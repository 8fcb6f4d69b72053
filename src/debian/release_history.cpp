#include "debian/release_history.hpp"

#include <charconv>
#include <optional>

#include "crypto/sha256.hpp"
#include "util/file_io.hpp"

namespace distill::debian {

namespace {

std::optional<std::time_t> read_newest(const std::filesystem::path& file) {
  auto text = util::read_file(file);
  if (!text.ok()) {
    return std::nullopt;
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return std::nullopt;
  }
  return static_cast<std::time_t>(value);
}

std::string utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S UTC", &tm);
  return buffer;
}

}  // namespace

std::filesystem::path ReleaseHistory::file_for(const std::string& suite_url) const {
  return m_dir / crypto::sha256(suite_url).hex();
}

Status ReleaseHistory::check(const std::string& suite_url, const ReleaseFile& release,
                             std::time_t now, bool allow_rollback,
                             const std::string& origin) const {
  if (release.date.empty()) {
    return {};
  }
  auto date = parse_release_date(release.date);
  if (!date.ok()) {
    return make_error(ErrorKind::Corrupt, origin + ": Date: " + date.error().message);
  }
  if (*date > now + k_release_future_tolerance) {
    return make_error(ErrorKind::Corrupt, origin + ": Date '" + release.date +
                                              "' is in the future (this machine's clock says " +
                                              utc(now) + ")");
  }
  if (allow_rollback || m_dir.empty()) {
    return {};
  }
  auto newest = read_newest(file_for(suite_url));
  if (newest && *date < *newest) {
    return make_error(ErrorKind::Corrupt, origin + ": Date '" + release.date +
                                              "' is older than the " + utc(*newest) +
                                              " already seen for this suite (a replayed Release?); "
                                              "--allow-release-rollback accepts it");
  }
  return {};
}

void ReleaseHistory::record(const std::string& suite_url, const ReleaseFile& release) const {
  if (m_dir.empty() || release.date.empty()) {
    return;
  }
  auto date = parse_release_date(release.date);
  if (!date.ok()) {
    return;
  }
  std::filesystem::path file = file_for(suite_url);
  auto newest = read_newest(file);
  if (newest && *newest >= *date) {
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  (void)util::write_file_atomic(file, std::to_string(static_cast<int64_t>(*date)));
}

Status check_release_replay(const std::filesystem::path& history_dir, const std::string& suite_url,
                            std::string_view inrelease, std::time_t now, bool allow_rollback) {
  std::string origin = suite_url + "InRelease";
  DISTILL_TRY(auto payload, clearsigned_payload(inrelease, origin));
  DISTILL_TRY(auto release, parse_release(payload, origin));
  return ReleaseHistory(history_dir).check(suite_url, release, now, allow_rollback, origin);
}

}  // namespace distill::debian
