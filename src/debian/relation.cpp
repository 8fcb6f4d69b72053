// Relationship field parser (Debian Policy §7.1); see relation.hpp.
#include "debian/relation.hpp"

#include <algorithm>

#include "debian/control.hpp"
#include "debian/version.hpp"

namespace distill::debian {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '+' || c == '-' || c == '_';
}

Error relation_error(std::string_view text, const std::string& why) {
  std::string shown(trim(text).substr(0, 80));
  return make_error(ErrorKind::InvalidInput, "invalid relation '" + shown + "': " + why);
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : m_text(text) {}
  void skip_space() {
    while (m_pos < m_text.size() && is_space(m_text[m_pos])) {
      ++m_pos;
    }
  }
  [[nodiscard]] bool done() const { return m_pos >= m_text.size(); }
  [[nodiscard]] char peek() const { return done() ? '\0' : m_text[m_pos]; }
  void advance(size_t n = 1) { m_pos += n; }
  [[nodiscard]] std::string_view rest() const { return m_text.substr(m_pos); }
  std::string_view take_while(bool (*pred)(char)) {
    size_t start = m_pos;
    while (m_pos < m_text.size() && pred(m_text[m_pos])) {
      ++m_pos;
    }
    return m_text.substr(start, m_pos - start);
  }
  // Skips a bracketed list such as "[amd64 !i386]"; false if unterminated.
  bool skip_until(char close) {
    size_t end = m_text.find(close, m_pos);
    if (end == std::string_view::npos) {
      return false;
    }
    m_pos = end + 1;
    return true;
  }

 private:
  std::string_view m_text;
  size_t m_pos = 0;
};

bool is_op_char(char c) { return c == '<' || c == '>' || c == '='; }

bool is_version_char(char c) {
  return !is_space(c) && c != ')' && c != '(' && c != ',' && c != '|';
}

Result<Relation> parse_one(std::string_view text) {
  Scanner s(text);
  Relation rel;
  s.skip_space();
  std::string_view name = s.take_while(is_name_char);
  if (name.empty()) {
    return relation_error(text, "missing package name");
  }
  if (!is_valid_package_name(name)) {
    return relation_error(text, "invalid package name '" + std::string(name) + "'");
  }
  rel.name = std::string(name);
  if (s.peek() == ':') {
    s.advance();
    std::string_view arch = s.take_while(is_name_char);
    if (arch.empty()) {
      return relation_error(text, "empty architecture qualifier");
    }
    rel.arch_qualifier = std::string(arch);
  }
  s.skip_space();
  if (s.peek() == '(') {
    s.advance();
    s.skip_space();
    std::string_view op = s.take_while(is_op_char);
    if (op == "<<") {
      rel.op = VersionOp::Less;
    } else if (op == "<=" || op == "<") {
      rel.op = VersionOp::LessEqual;
    } else if (op == "=") {
      rel.op = VersionOp::Equal;
    } else if (op == ">=" || op == ">") {
      rel.op = VersionOp::GreaterEqual;
    } else if (op == ">>") {
      rel.op = VersionOp::Greater;
    } else {
      return relation_error(text, "unknown version operator '" + std::string(op) + "'");
    }
    s.skip_space();
    std::string_view version = s.take_while(is_version_char);
    if (version.empty()) {
      return relation_error(text, "missing version");
    }
    rel.version = std::string(version);
    s.skip_space();
    if (s.peek() != ')') {
      return relation_error(text, "expected ')'");
    }
    s.advance();
    s.skip_space();
  }
  // Architecture restrictions and build profiles: accepted and dropped.
  while (s.peek() == '[' || s.peek() == '<') {
    if (!s.skip_until(s.peek() == '[' ? ']' : '>')) {
      return relation_error(text, "unterminated restriction list");
    }
    s.skip_space();
  }
  if (!s.done()) {
    return relation_error(text, "unexpected '" + std::string(s.rest().substr(0, 20)) + "'");
  }
  return rel;
}

}  // namespace

bool is_valid_package_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '+' || c == '.' || c == '-'; });
}

Result<Relation> parse_package_request(std::string_view text) {
  Relation rel;
  std::string_view name = text.substr(0, text.find('='));
  if (name.size() < text.size()) {
    rel.op = VersionOp::Equal;
    rel.version = std::string(text.substr(name.size() + 1));
  }
  bool arch_ok = true;
  if (size_t colon = name.find(':'); colon != std::string_view::npos) {
    rel.arch_qualifier = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
    arch_ok = !rel.arch_qualifier.empty() &&
              std::all_of(rel.arch_qualifier.begin(), rel.arch_qualifier.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
              });
  }
  rel.name = std::string(name);
  if (!is_valid_package_name(rel.name) || !arch_ok ||
      (rel.op == VersionOp::Equal && !is_valid_version(rel.version))) {
    return make_error(ErrorKind::InvalidInput, "'" + std::string(text) +
                                                   "' is not a package name (NAME, "
                                                   "NAME=VERSION or NAME:ARCH)");
  }
  return rel;
}

const char* to_string(VersionOp op) {
  switch (op) {
    case VersionOp::Any:
      return "";
    case VersionOp::Less:
      return "<<";
    case VersionOp::LessEqual:
      return "<=";
    case VersionOp::Equal:
      return "=";
    case VersionOp::GreaterEqual:
      return ">=";
    case VersionOp::Greater:
      return ">>";
  }
  return "";
}

std::string Relation::to_string() const {
  std::string out = name;
  if (!arch_qualifier.empty()) {
    out += ':';
    out += arch_qualifier;
  }
  if (op != VersionOp::Any) {
    out += " (";
    out += debian::to_string(op);
    out += ' ';
    out += version;
    out += ')';
  }
  return out;
}

std::string RelationGroup::to_string() const {
  std::string out;
  for (size_t i = 0; i < alternatives.size(); ++i) {
    if (i > 0) {
      out += " | ";
    }
    out += alternatives[i].to_string();
  }
  return out;
}

Result<std::vector<RelationGroup>> parse_relations(std::string_view field) {
  std::vector<RelationGroup> groups;
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    if (comma == std::string_view::npos) {
      comma = field.size();
    }
    std::string_view clause = field.substr(start, comma - start);
    start = comma + 1;
    if (trim(clause).empty()) {
      continue;
    }
    RelationGroup group;
    size_t alt_start = 0;
    while (alt_start <= clause.size()) {
      size_t bar = clause.find('|', alt_start);
      if (bar == std::string_view::npos) {
        bar = clause.size();
      }
      std::string_view alt = clause.substr(alt_start, bar - alt_start);
      alt_start = bar + 1;
      if (trim(alt).empty()) {
        return relation_error(clause, "empty alternative");
      }
      DISTILL_TRY(auto rel, parse_one(alt));
      group.alternatives.push_back(std::move(rel));
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

bool version_satisfies(std::string_view candidate, VersionOp op, std::string_view wanted) {
  if (op == VersionOp::Any) {
    return true;
  }
  int c = compare_versions(candidate, wanted);
  switch (op) {
    case VersionOp::Any:
      return true;
    case VersionOp::Less:
      return c < 0;
    case VersionOp::LessEqual:
      return c <= 0;
    case VersionOp::Equal:
      return c == 0;
    case VersionOp::GreaterEqual:
      return c >= 0;
    case VersionOp::Greater:
      return c > 0;
  }
  return false;
}

}  // namespace distill::debian
