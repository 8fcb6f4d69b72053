// The licenses of a Debian package, from its /usr/share/doc/PKG/copyright file,
// as SPDX license expressions (https://spdx.github.io/spdx-spec/v2.3/SPDX-license-expressions/).
//
// A machine-readable file (copyright-format 1.0, "DEP-5") names its licenses in
// `License:` fields with Debian short names. Each name maps to its SPDX identifier
// where SPDX has one ("GPL-2+" -> "GPL-2.0-or-later", "Expat" -> "MIT",
// "BSD-3-clause" -> "BSD-3-Clause"); the others become `LicenseRef-<name>`
// ("public-domain" -> "LicenseRef-public-domain"), defined by the text the file
// gives for them. Combinations follow copyright-format 1.0: "or" (choice), "and"
// (both), "and" binding tighter than "or" unless a comma lowers its precedence
// ("A or B, and C" = (A OR B) AND C), and "X with Y exception" (SPDX WITH when
// SPDX knows the exception, else the whole name is a LicenseRef).
//
// A file that is not machine-readable still yields a license: one LicenseRef per
// package whose text points at the file, never silence. Only a package without a
// copyright file has no license (NOASSERTION in the documents).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace distill::check {

// A license the document must define itself (SPDX hasExtractedLicensingInfos).
struct ExtractedLicense {
  std::string id;    // "LicenseRef-public-domain"
  std::string name;  // the Debian short name, or the copyright file's path
  std::string text;  // the license text (never empty)
};

struct CopyrightLicenses {
  std::string expression;                   // SPDX expression; "" when there is none
  std::vector<ExtractedLicense> extracted;  // each LicenseRef the expression uses, once
  bool machine_readable = false;
};

// Whether a layer's file, by its name there, is a package's copyright file
// ("usr/share/doc/PACKAGE/copyright").
bool is_copyright_file(std::string_view tar_path);

// The SPDX identifier for one Debian short name (no "or"/"and"/"with"), "" if SPDX
// has none. Case-insensitive; "+" means "or later".
std::string spdx_license_id(std::string_view debian_name);

// "LicenseRef-" + `name` with every character SPDX does not allow in an idstring
// (letters, digits, '.', '-') replaced by '-'.
std::string license_ref(std::string_view name);

// One `License:` value (its first line) as an SPDX expression; names without an
// SPDX identifier become LicenseRef-<name>, and are appended to `unknown` when given.
std::string spdx_expression(std::string_view debian_license,
                            std::vector<std::string>* unknown = nullptr);

// Every license short name (first line of each `License:` field) that applies to
// files (the header's and those of `Files:` paragraphs), in file order, once each;
// empty when the text is not machine-readable.
std::vector<std::string> copyright_license_names(std::string_view copyright_text);

// The licenses of one copyright file: the AND of every applying `License:`
// expression. `path` is where the file is in the image (named by the LicenseRef of
// a file that is not machine-readable) and `package` the package it documents.
CopyrightLicenses copyright_licenses(std::string_view copyright_text, const std::string& path,
                                     const std::string& package);

}  // namespace distill::check
