// Release/InRelease parsing and gpgv verification; see release.hpp.
#include "debian/release.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "debian/apt_sources.hpp"
#include "debian/control.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"
#include "util/text.hpp"

namespace distill::debian {

namespace {

constexpr std::string_view k_begin_signed = "-----BEGIN PGP SIGNED MESSAGE-----";
constexpr std::string_view k_begin_signature = "-----BEGIN PGP SIGNATURE-----";
constexpr std::string_view k_end_signature = "-----END PGP SIGNATURE-----";

Error corrupt(const std::string& origin, const std::string& why) {
  return make_error(ErrorKind::Corrupt, origin + ": " + why);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

// Decodes every "-----BEGIN PGP PUBLIC KEY BLOCK-----" block into binary packets.
Result<std::string> dearmor(std::string_view armored, const std::string& origin) {
  std::string out;
  std::vector<std::string_view> lines = split_lines(armored);
  size_t i = 0;
  bool found = false;
  while (i < lines.size()) {
    if (trim(lines[i]) != "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
      ++i;
      continue;
    }
    found = true;
    ++i;
    while (i < lines.size() && !trim(lines[i]).empty()) {
      ++i;  // armor headers
    }
    uint32_t bits = 0;
    int nbits = 0;
    bool ended = false;
    for (; i < lines.size(); ++i) {
      std::string_view line = trim(lines[i]);
      if (line.rfind("-----END PGP PUBLIC KEY BLOCK-----", 0) == 0) {
        ended = true;
        ++i;
        break;
      }
      if (!line.empty() && line.front() == '=') {
        continue;  // CRC-24 line
      }
      for (char c : line) {
        if (c == '=') {
          break;
        }
        int v = base64_value(c);
        if (v < 0) {
          return corrupt(origin, "invalid character in armored key");
        }
        bits = (bits << 6) | static_cast<uint32_t>(v);
        nbits += 6;
        if (nbits >= 8) {
          nbits -= 8;
          out += static_cast<char>((bits >> nbits) & 0xff);
        }
      }
    }
    if (!ended) {
      return corrupt(origin, "unterminated armored key block");
    }
  }
  if (!found) {
    return corrupt(origin, "no PGP public key block in armored keyring");
  }
  return out;
}

// Puts a usable binary keyring at `dir/keyring.gpg` unless `keyring` already is
// one; returns the path gpgv should use.
Result<std::string> prepare_keyring(const std::string& keyring, const util::TempDir& dir,
                                    const std::string& origin) {
  std::string armored;
  if (is_inline_key(keyring)) {
    armored = keyring;
  } else {
    if (keyring.empty()) {
      return make_error(ErrorKind::InvalidInput, origin + ": no keyring given");
    }
    auto data = util::read_file(keyring);
    if (!data.ok()) {
      return std::move(data).error().context(origin + ": reading keyring");
    }
    if (data->find("-----BEGIN PGP PUBLIC KEY BLOCK-----") == std::string::npos) {
      return std::filesystem::absolute(keyring).string();
    }
    armored = std::move(*data);
  }
  DISTILL_TRY(auto binary, dearmor(armored, origin + ": keyring"));
  std::filesystem::path path = dir.path() / "keyring.gpg";
  DISTILL_CHECK(util::write_file_atomic(path, binary));
  return path.string();
}

// Runs gpgv and requires a good, valid signature.
Status run_gpgv(const std::string& keyring, const std::vector<std::string>& files,
                const util::TempDir& dir, const std::string& origin) {
  DISTILL_TRY(auto keyring_path, prepare_keyring(keyring, dir, origin));
  std::filesystem::path home = dir.path() / "gnupg";
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  std::filesystem::permissions(home, std::filesystem::perms::owner_all, ec);
  util::Command command;
  command.argv = {"gpgv", "--homedir", home.string(), "--status-fd",
                  "1",    "--keyring", keyring_path};
  command.argv.insert(command.argv.end(), files.begin(), files.end());
  auto result = util::run_command(command);
  if (!result.ok()) {
    return std::move(result).error().context(origin + ": running gpgv");
  }
  const std::string& status = result->stdout_data;
  bool good = status.find("[GNUPG:] GOODSIG ") != std::string::npos &&
              status.find("[GNUPG:] VALIDSIG ") != std::string::npos;
  // Like apt: one good signature from a key in the keyring suffices (the archive
  // signs with several keys and the keyring may hold only some: gpgv then exits
  // non-zero with NO_PUBKEY for the others), but any bad signature fails.
  bool bad = status.find("[GNUPG:] BADSIG") != std::string::npos;
  if (good && !bad) {
    return {};
  }
  if (bad) {
    return corrupt(origin, "BAD signature (the file was modified or corrupted)");
  }
  if (status.find("[GNUPG:] NO_PUBKEY") != std::string::npos ||
      status.find("[GNUPG:] ERRSIG") != std::string::npos) {
    return corrupt(origin, "signed by a key that is not in the keyring " +
                               (is_inline_key(keyring) ? std::string("(inline key)") : keyring));
  }
  if (status.find("[GNUPG:] BADSIG") != std::string::npos) {
    return corrupt(origin, "BAD signature (the file was modified or corrupted)");
  }
  if (status.find("[GNUPG:] EXPKEYSIG") != std::string::npos) {
    return corrupt(origin, "signed by an expired key");
  }
  if (status.find("[GNUPG:] REVKEYSIG") != std::string::npos) {
    return corrupt(origin, "signed by a revoked key");
  }
  std::string why = trim(result->stderr_data).empty() ? "no valid signature"
                                                      : std::string(trim(result->stderr_data));
  std::replace(why.begin(), why.end(), '\n', ' ');
  return corrupt(origin, "signature verification failed: " + why);
}

int month_index(std::string_view name) {
  static constexpr std::string_view k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (iequals(name, k_months[i])) {
      return i;
    }
  }
  return -1;
}

bool parse_int(std::string_view text, int& out) {
  if (text.empty()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

Result<ReleaseFile> parse_release(std::string_view text, const std::string& origin) {
  DISTILL_TRY(auto paragraph, parse_paragraph(text, origin));
  ReleaseFile release;
  release.suite = std::string(trim(paragraph.get("Suite")));
  release.codename = std::string(trim(paragraph.get("Codename")));
  release.date = std::string(trim(paragraph.get("Date")));
  release.valid_until = std::string(trim(paragraph.get("Valid-Until")));
  const std::string architectures = paragraph.get("Architectures");
  const std::string components = paragraph.get("Components");
  for (std::string_view word : split_words(architectures)) {
    release.architectures.emplace_back(word);
  }
  for (std::string_view word : split_words(components)) {
    release.components.emplace_back(word);
  }
  release.acquire_by_hash = iequals(trim(paragraph.get("Acquire-By-Hash")), "yes");
  release.all_in_arch_indexes =
      iequals(trim(paragraph.get("No-Support-for-Architecture-all")), "Packages");
  const Field* sums = paragraph.find_field("SHA256");
  if (sums != nullptr) {
    int line = sums->line;
    for (std::string_view entry : value_lines(sums->value)) {
      ++line;
      std::vector<std::string_view> words = split_words(entry);
      uint64_t size = 0;
      bool size_ok = words.size() == 3 && parse_u64(words[1], size);
      if (!size_ok || words[0].size() != 64 || !is_hex(words[0])) {
        return make_error(ErrorKind::Corrupt, origin + ":" + std::to_string(line) +
                                                  ": malformed SHA256 entry '" +
                                                  std::string(entry.substr(0, 100)) + "'");
      }
      release.sha256[std::string(words[2])] = ReleaseEntry{util::ascii_lower(words[0]), size};
    }
  }
  return release;
}

Result<std::string> clearsigned_payload(std::string_view inrelease, const std::string& origin) {
  std::vector<std::string_view> lines = split_lines(inrelease);
  size_t i = 0;
  while (i < lines.size() && trim(lines[i]).empty()) {
    ++i;
  }
  if (i == lines.size() || lines[i] != k_begin_signed) {
    return corrupt(origin,
                   "not a clear-signed file (missing '" + std::string(k_begin_signed) + "')");
  }
  ++i;
  bool has_hash = false;
  while (i < lines.size() && !lines[i].empty()) {
    if (lines[i].rfind("Hash:", 0) == 0) {
      has_hash = true;
    } else {
      return corrupt(origin,
                     "unexpected armor header '" + std::string(lines[i].substr(0, 60)) + "'");
    }
    ++i;
  }
  if (i == lines.size() || !has_hash) {
    return corrupt(origin, "malformed clear-signed header");
  }
  ++i;
  std::string payload;
  payload.reserve(inrelease.size());
  bool in_signature = false;
  for (; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line == k_begin_signature) {
      in_signature = true;
      ++i;
      break;
    }
    if (!line.empty() && line.front() == '-') {
      if (line.rfind("- ", 0) != 0) {
        return corrupt(origin, "unexpected armor line '" + std::string(line.substr(0, 60)) + "'");
      }
      line.remove_prefix(2);
    }
    payload += line;
    payload += '\n';
  }
  if (!in_signature) {
    return corrupt(origin, "clear-signed file has no signature");
  }
  bool ended = false;
  for (; i < lines.size(); ++i) {
    if (lines[i] == k_end_signature) {
      ended = true;
      ++i;
      break;
    }
    if (lines[i].rfind("-----", 0) == 0) {
      return corrupt(origin, "unexpected armor line in signature");
    }
  }
  if (!ended) {
    return corrupt(origin, "unterminated signature block");
  }
  for (; i < lines.size(); ++i) {
    if (!trim(lines[i]).empty()) {
      return corrupt(origin, "data after the signature block");
    }
  }
  return payload;
}

Result<std::string> verify_clearsigned(std::string_view inrelease, const std::string& keyring,
                                       const std::string& origin) {
  DISTILL_TRY(auto payload, clearsigned_payload(inrelease, origin));
  DISTILL_TRY(auto dir, util::TempDir::create("distill-gpgv-"));
  std::filesystem::path file = dir.path() / "InRelease";
  DISTILL_CHECK(util::write_file_atomic(file, inrelease));
  DISTILL_CHECK(run_gpgv(keyring, {file.string()}, dir, origin));
  return payload;
}

Status verify_detached(std::string_view release, std::string_view signature,
                       const std::string& keyring, const std::string& origin) {
  DISTILL_TRY(auto dir, util::TempDir::create("distill-gpgv-"));
  std::filesystem::path data = dir.path() / "Release";
  std::filesystem::path sig = dir.path() / "Release.gpg";
  DISTILL_CHECK(util::write_file_atomic(data, release));
  DISTILL_CHECK(util::write_file_atomic(sig, signature));
  return run_gpgv(keyring, {sig.string(), data.string()}, dir, origin);
}

std::string release_header_field(std::string_view text, std::string_view name) {
  size_t pos = 0;
  if (text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----")) {
    // The armor headers end at the first empty line; the paragraph follows.
    size_t blank = text.find("\n\n");
    if (blank == std::string_view::npos) {
      return "";
    }
    pos = blank + 2;
  }
  while (pos < text.size()) {
    size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line.starts_with("-----BEGIN PGP SIGNATURE-----")) {
      break;  // the end of the paragraph
    }
    size_t colon = line.find(':');
    if (line[0] != ' ' && line[0] != '\t' && colon != std::string_view::npos &&
        iequals(line.substr(0, colon), name)) {
      return std::string(trim(line.substr(colon + 1)));
    }
    pos = end + 1;
  }
  return "";
}

Result<std::time_t> parse_release_date(std::string_view text) {
  std::vector<std::string_view> words = split_words(text);
  auto bad = [&]() {
    return make_error(ErrorKind::Corrupt, "invalid date '" + std::string(text.substr(0, 60)) + "'");
  };
  size_t i = 0;
  if (!words.empty() && words[0].back() == ',') {
    i = 1;  // weekday
  }
  if (words.size() < i + 4) {
    return bad();
  }
  std::tm tm{};
  int day = 0;
  int year = 0;
  int month = month_index(words[i + 1]);
  if (!parse_int(words[i], day) || month < 0 || !parse_int(words[i + 2], year) || day < 1 ||
      day > 31) {
    return bad();
  }
  std::string_view time = words[i + 3];
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (time.size() == 8 && time[2] == ':' && time[5] == ':') {
    if (!parse_int(time.substr(0, 2), hour) || !parse_int(time.substr(3, 2), minute) ||
        !parse_int(time.substr(6, 2), second)) {
      return bad();
    }
  } else if (time.size() == 5 && time[2] == ':') {
    if (!parse_int(time.substr(0, 2), hour) || !parse_int(time.substr(3, 2), minute)) {
      return bad();
    }
  } else {
    return bad();
  }
  long offset = 0;
  if (words.size() > i + 4) {
    std::string_view zone = words[i + 4];
    if (zone == "UTC" || zone == "GMT" || zone == "Z" || zone == "UT") {
      offset = 0;
    } else if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
      int hh = 0;
      int mm = 0;
      if (!parse_int(zone.substr(1, 2), hh) || !parse_int(zone.substr(3, 2), mm)) {
        return bad();
      }
      offset = (hh * 3600L + mm * 60L) * (zone[0] == '-' ? -1 : 1);
    } else {
      return bad();
    }
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  return static_cast<std::time_t>(t - offset);
}

Status check_valid_until(const ReleaseFile& release, std::time_t now, const std::string& origin) {
  if (release.valid_until.empty()) {
    return {};
  }
  auto until = parse_release_date(release.valid_until);
  if (!until.ok()) {
    return corrupt(origin, "Valid-Until: " + until.error().message);
  }
  if (*until < now) {
    return corrupt(origin, "Release file expired (Valid-Until: " + release.valid_until +
                               "); it may be a replayed old file");
  }
  return {};
}

}  // namespace distill::debian
