// deb822 parser (Debian Policy §5.1, deb822(5)); see control.hpp for the value model.
#include "debian/control.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace distill::debian {

namespace {

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

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool parse_u64(std::string_view text, uint64_t& out) {
  text = trim(text);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
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
  if (const std::string* value = find(name); value != nullptr) {
    return *value;
  }
  return fallback;  // moved: a conditional expression would have copied it
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

Status scan_control(std::string_view text, const std::string& origin, ControlVisitor& visitor,
                    int* lines) {
  const char* data = text.data();
  const size_t size = text.size();
  int line_no = 0;
  size_t pos = 0;
  // The field being read: its name, where its value starts and ends (so far).
  std::string_view name;
  size_t value_begin = 0;
  size_t value_end = 0;
  int field_line = 0;
  int paragraph_line = 0;  // 0: between paragraphs
  auto flush_field = [&]() -> Status {
    if (field_line != 0) {
      int line = field_line;
      field_line = 0;
      return visitor.field(name, text.substr(value_begin, value_end - value_begin), line);
    }
    return {};
  };
  while (pos < size) {
    ++line_no;
    const void* nl = std::memchr(data + pos, '\n', size - pos);
    size_t end = nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - data) : size;
    size_t line_begin = pos;
    pos = end + 1;
    size_t line_end = end;
    while (line_end > line_begin && (data[line_end - 1] == '\r' || is_blank(data[line_end - 1]))) {
      --line_end;
    }
    if (line_end == line_begin || (is_blank(data[line_begin]) &&
                                   trim(text.substr(line_begin, line_end - line_begin)).empty())) {
      // Blank line: ends the paragraph.
      DISTILL_CHECK(flush_field());
      if (paragraph_line != 0) {
        DISTILL_CHECK(visitor.paragraph_end(paragraph_line));
        paragraph_line = 0;
      }
      continue;
    }
    char first = data[line_begin];
    if (first == '#') {
      continue;  // comment (kept inside a raw value if continuation lines follow)
    }
    if (is_blank(first)) {
      if (field_line == 0) {
        return line_error(origin, line_no, "continuation line outside a field");
      }
      value_end = line_end;
      continue;
    }
    std::string_view line = text.substr(line_begin, line_end - line_begin);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return line_error(origin, line_no,
                        "expected 'Field: value', got '" + std::string(line.substr(0, 60)) + "'");
    }
    std::string_view field_name = line.substr(0, colon);
    if (!valid_field_name(field_name)) {
      return line_error(origin, line_no,
                        "invalid field name '" + std::string(field_name.substr(0, 60)) + "'");
    }
    DISTILL_CHECK(flush_field());
    if (paragraph_line == 0) {
      paragraph_line = line_no;
    }
    name = field_name;
    field_line = line_no;
    value_begin = line_begin + colon + 1;
    while (value_begin < line_end && is_blank(data[value_begin])) {
      ++value_begin;
    }
    value_end = std::max(value_begin, line_end);
  }
  DISTILL_CHECK(flush_field());
  if (paragraph_line != 0) {
    DISTILL_CHECK(visitor.paragraph_end(paragraph_line));
  }
  if (lines != nullptr) {
    *lines = line_no;
  }
  return {};
}

std::string normalize_value(std::string_view raw) {
  size_t nl = raw.find('\n');
  if (nl == std::string_view::npos) {
    return std::string(trim(raw));
  }
  std::string out(trim(raw.substr(0, nl)));
  size_t start = nl + 1;
  while (start <= raw.size()) {
    size_t end = raw.find('\n', start);
    if (end == std::string_view::npos) {
      end = raw.size();
    }
    std::string_view line = raw.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || is_blank(line.back()))) {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;  // comment lines inside a value
    }
    out += '\n';
    out += line;
  }
  return out;
}

namespace {

class ParagraphBuilder : public ControlVisitor {
 public:
  ParagraphBuilder(std::string_view text, const std::string& origin) : m_origin(origin) {
    // A rough guess (Packages stanzas are ~1 KiB) avoids most regrowth.
    m_paragraphs.reserve(text.size() / 1024 + 1);
  }
  Status field(std::string_view name, std::string_view raw, int line) override {
    if (m_current == nullptr) {
      m_paragraphs.emplace_back(line);
      m_current = &m_paragraphs.back();
      m_current->reserve(m_field_hint);
    } else if (m_current->find_field(name) != nullptr) {
      return line_error(m_origin, line, "duplicate field '" + std::string(name) + "'");
    }
    m_current->add(Field{std::string(name), normalize_value(raw), line});
    return {};
  }
  Status paragraph_end(int /*first_line*/) override {
    m_field_hint = std::max(m_field_hint, m_current->fields().size());
    m_current = nullptr;
    return {};
  }
  std::vector<Paragraph> take() { return std::move(m_paragraphs); }

 private:
  const std::string& m_origin;
  std::vector<Paragraph> m_paragraphs;
  Paragraph* m_current = nullptr;
  size_t m_field_hint = 8;
};

}  // namespace

Result<std::vector<Paragraph>> parse_control(std::string_view text, const std::string& origin) {
  ParagraphBuilder builder(text, origin);
  DISTILL_CHECK(scan_control(text, origin, builder));
  return builder.take();
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
