// deb822 parser (Debian Policy §5.1, deb822(5)); see control.hpp for the value model.
#include "debian/control.hpp"

#include <algorithm>
#include <cstring>

namespace distill::debian {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Error line_error(const std::string& origin, int line, const std::string& why) {
  return make_error(ErrorKind::InvalidInput, origin + ":" + std::to_string(line) + ": " + why);
}

bool valid_field_name(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.front() == '#') {
    return false;
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || c == ':') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size() && is_space(text[begin])) {
    ++begin;
  }
  size_t end = text.size();
  while (end > begin && is_space(text[end - 1])) {
    --end;
  }
  return text.substr(begin, end - begin);
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) {
      ++i;
    }
    size_t start = i;
    while (i < text.size() && !is_space(text[i])) {
      ++i;
    }
    if (i > start) {
      words.push_back(text.substr(start, i - start));
    }
  }
  return words;
}

std::vector<std::string_view> value_lines(std::string_view value) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find('\n', start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    std::string_view line = trim(value.substr(start, end - start));
    if (!line.empty()) {
      lines.push_back(line);
    }
    start = end + 1;
  }
  return lines;
}

const Field* Paragraph::find_field(std::string_view name) const {
  for (const Field& field : m_fields) {
    if (iequals(field.name, name)) {
      return &field;
    }
  }
  return nullptr;
}

const std::string* Paragraph::find(std::string_view name) const {
  const Field* field = find_field(name);
  return field != nullptr ? &field->value : nullptr;
}

std::string Paragraph::get(std::string_view name, std::string fallback) const {
  const std::string* value = find(name);
  return value != nullptr ? *value : std::move(fallback);
}

void Paragraph::set(std::string_view name, std::string value) {
  for (Field& field : m_fields) {
    if (iequals(field.name, name)) {
      field.value = std::move(value);
      return;
    }
  }
  m_fields.push_back(Field{std::string(name), std::move(value), 0});
}

std::string Paragraph::text() const {
  size_t size = 0;
  for (const Field& field : m_fields) {
    size += field.name.size() + field.value.size() + 3;
  }
  std::string out;
  out.reserve(size);
  for (const Field& field : m_fields) {
    out += field.name;
    out += ':';
    if (!field.value.empty() && field.value.front() != '\n') {
      out += ' ';
    }
    out += field.value;
    out += '\n';
  }
  return out;
}

Result<std::vector<Paragraph>> parse_control(std::string_view text, const std::string& origin) {
  std::vector<Paragraph> paragraphs;
  // A rough guess (Packages stanzas are ~1 KiB) avoids most regrowth.
  paragraphs.reserve(text.size() / 1024 + 1);
  Paragraph* current = nullptr;
  Field* last = nullptr;
  size_t field_hint = 8;
  int line_no = 0;
  size_t pos = 0;
  const char* data = text.data();
  while (pos < text.size()) {
    ++line_no;
    const void* nl = std::memchr(data + pos, '\n', text.size() - pos);
    size_t end =
        nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - data) : text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && line.front() == '#') {
      continue;  // comment
    }
    if (trim(line).empty()) {
      if (current != nullptr) {
        field_hint = std::max(field_hint, current->fields().size());
      }
      current = nullptr;
      last = nullptr;
      continue;
    }
    if (is_blank(line.front())) {
      if (last == nullptr) {
        return line_error(origin, line_no, "continuation line outside a field");
      }
      size_t keep = line.size();
      while (keep > 0 && is_blank(line[keep - 1])) {
        --keep;
      }
      last->value += '\n';
      last->value.append(line.data(), keep);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return line_error(origin, line_no,
                        "expected 'Field: value', got '" + std::string(line.substr(0, 60)) + "'");
    }
    std::string_view name = line.substr(0, colon);
    if (!valid_field_name(name)) {
      return line_error(origin, line_no,
                        "invalid field name '" + std::string(name.substr(0, 60)) + "'");
    }
    if (current == nullptr) {
      paragraphs.emplace_back(line_no);
      current = &paragraphs.back();
      current->reserve(field_hint);
    } else if (current->find_field(name) != nullptr) {
      return line_error(origin, line_no, "duplicate field '" + std::string(name) + "'");
    }
    last =
        &current->add(Field{std::string(name), std::string(trim(line.substr(colon + 1))), line_no});
  }
  return paragraphs;
}

Result<Paragraph> parse_paragraph(std::string_view text, const std::string& origin) {
  DISTILL_TRY(auto paragraphs, parse_control(text, origin));
  if (paragraphs.empty()) {
    return make_error(ErrorKind::InvalidInput, origin + ": no fields");
  }
  if (paragraphs.size() > 1) {
    return line_error(origin, paragraphs[1].line(), "unexpected second paragraph");
  }
  return std::move(paragraphs.front());
}

}  // namespace distill::debian
