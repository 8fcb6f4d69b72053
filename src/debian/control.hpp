// deb822 control-file parser: Packages indexes, Release files, .sources files and
// the control paragraph of a .deb all use this syntax.
//
// Follows Debian Policy §5.1 and deb822(5): `Field: value`, continuation lines start
// with a space or tab, stanzas are separated by blank lines, field names compare
// case-insensitively, lines starting with '#' are comments. CRLF is tolerated.
//
// A value is stored as the first line's text (trimmed) followed, for each
// continuation line, by '\n' and that line as written (leading whitespace kept, so
// " ." empty-line markers survive). Paragraph::text() reproduces the paragraph.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"
#include "util/text.hpp"

namespace distill::debian {

struct Field {
  std::string name;
  std::string value;
  int line = 0;  // 1-based line of the field name in the source text
};

class Paragraph {
 public:
  Paragraph() = default;
  explicit Paragraph(int line) : m_line(line) {}

  // The field's value, or nullptr; the name compares case-insensitively.
  [[nodiscard]] const std::string* find(std::string_view name) const;
  [[nodiscard]] std::string get(std::string_view name, std::string fallback = {}) const;
  [[nodiscard]] const Field* find_field(std::string_view name) const;
  [[nodiscard]] int line() const { return m_line; }
  [[nodiscard]] const std::vector<Field>& fields() const { return m_fields; }
  std::vector<Field>& mutable_fields() { return m_fields; }
  [[nodiscard]] bool empty() const { return m_fields.empty(); }
  // Re-serialized paragraph, fields in their original order, ending with "\n".
  [[nodiscard]] std::string text() const;

  // Appends or replaces (case-insensitively) a field.
  void set(std::string_view name, std::string value);
  Field& add(Field field) {
    m_fields.push_back(std::move(field));
    return m_fields.back();
  }
  void reserve(size_t count) { m_fields.reserve(count); }

 private:
  std::vector<Field> m_fields;
  int m_line = 0;
};

// ASCII case-insensitive equality, as field names compare.
using util::iequals;

// Low-level, allocation-free scan for hot paths (Packages indexes): calls
// field() for every field with its raw value, a view into `text` running from the
// first non-blank after the colon to the end of the last continuation line (line
// breaks, continuation indentation, comment lines and any '\r' kept as written).
// paragraph_end() follows the last field of each paragraph. Duplicate fields are
// not detected here. A callback error stops the scan and is returned.
class ControlVisitor {
 public:
  virtual ~ControlVisitor() = default;
  virtual Status field(std::string_view name, std::string_view raw_value, int line) = 0;
  virtual Status paragraph_end(int first_line) = 0;
};
// `lines`, when given, receives the number of lines scanned (the newlines in
// `text`, plus one if it does not end with one), so a caller scanning a text in
// pieces need not count them again.
Status scan_control(std::string_view text, const std::string& origin, ControlVisitor& visitor,
                    int* lines = nullptr);

// The value model of Field::value from a raw value (see the top of this file).
std::string normalize_value(std::string_view raw_value);

// Parses every paragraph; `origin` (a path or URL) prefixes error messages:
// "origin:line: why" (InvalidInput).
Result<std::vector<Paragraph>> parse_control(std::string_view text, const std::string& origin);

// Parses text that must hold exactly one paragraph (a .deb's control file, a
// Release file).
Result<Paragraph> parse_paragraph(std::string_view text, const std::string& origin);

// Splits a multi-line value into its lines with surrounding whitespace removed and
// empty lines dropped (checksum lists such as Release's SHA256).
std::vector<std::string_view> value_lines(std::string_view value);

// Splits on blanks (spaces, tabs, newlines), dropping empty words.
std::vector<std::string_view> split_words(std::string_view text);

// Without leading and trailing blanks (spaces, tabs, newlines, CRs).
std::string_view trim(std::string_view text);

// A space or a tab (deb822's whitespace within a line).
bool is_blank(char c);
// A space, tab, newline or CR.
bool is_space(char c);

// A decimal unsigned number filling the field (surrounding blanks allowed).
bool parse_u64(std::string_view text, uint64_t& out);

}  // namespace distill::debian
