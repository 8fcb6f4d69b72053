// Debian changelogs (debian/changelog, installed as
// /usr/share/doc/<package>/changelog.Debian.gz): entries as deb-changelog(5)
// describes them, newest first:
//
//   package (version) distribution(s); urgency=urgency[, key=value...]
//
//     * change details
//
//    -- maintainer name <email address>  date
//
// The parser never fails: a changelog is read for a report, and a line it
// does not understand (old free-form history, editor variables) is skipped.
// Parsing stops at "Old Changelog:" or "Local variables:", where Debian's
// own tools stop. Helpers pick the CVE identifiers an entry names and rank
// urgencies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace distill::debian {

struct ChangelogEntry {
  std::string package;
  std::string version;
  std::vector<std::string> distributions;  // "bookworm-security", "unstable", ...
  std::string urgency;                     // lower case, the first word ("high")
  std::vector<std::string> body;           // the change lines, as written
  std::string maintainer;                  // "Name <address>" of the trailer line
  std::string date;                        // as written on the trailer line
  size_t line = 0;                         // of the header, 1-based
};

// Entries in the order written (newest first). Never fails; see above.
std::vector<ChangelogEntry> parse_changelog(std::string_view text);

// CVE identifiers ("CVE-2024-12345": four digits of year, four or more of
// number) in `text`, in the order they first appear, each once.
std::vector<std::string> cve_ids(std::string_view text);
// The same over an entry's header and body lines.
std::vector<std::string> cve_ids(const ChangelogEntry& entry);

// low 1, medium 2, high 3, emergency 4, critical 5; anything else 0.
int urgency_rank(std::string_view urgency);

}  // namespace distill::debian
