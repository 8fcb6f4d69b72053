// ar archive parser (see ar_reader.hpp; format as in deb(5) and GNU binutils'
// ar documentation). Every size read from a header is checked against the data.
#include "archive/ar_reader.hpp"

namespace distill::archive {

namespace {

constexpr std::string_view k_magic = "!<arch>\n";
constexpr size_t k_header_size = 60;

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

// Parses a space-padded decimal field; nullopt-like failure as false.
bool parse_decimal(std::string_view field, uint64_t& value) {
  field = trim_right(field);
  if (field.empty()) {
    return false;
  }
  value = 0;
  for (char c : field) {
    if (c < '0' || c > '9') {
      return false;
    }
    if (value > (UINT64_MAX - 9) / 10) {
      return false;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

Error corrupt(const std::string& origin, uint64_t offset, const std::string& what) {
  return make_error(ErrorKind::Corrupt,
                    origin + ": ar archive at offset " + std::to_string(offset) + ": " + what);
}

}  // namespace

Result<std::vector<ArMember>> parse_ar(std::string_view data, const std::string& origin) {
  if (data.size() < k_magic.size() || data.substr(0, k_magic.size()) != k_magic) {
    return make_error(ErrorKind::Corrupt, origin + ": not an ar archive (bad magic)");
  }
  std::vector<ArMember> members;
  std::string_view long_names;
  uint64_t pos = k_magic.size();
  while (pos < data.size()) {
    if (data.size() - pos < k_header_size) {
      // A single trailing newline is padding some writers add; anything else is damage.
      if (data.size() - pos == 1 && data[pos] == '\n') {
        break;
      }
      return corrupt(origin, pos, "truncated member header");
    }
    std::string_view header = data.substr(pos, k_header_size);
    if (header.substr(58, 2) != "`\n") {
      return corrupt(origin, pos, "bad member header terminator");
    }
    uint64_t size = 0;
    if (!parse_decimal(header.substr(48, 10), size)) {
      return corrupt(origin, pos, "bad member size");
    }
    uint64_t data_offset = pos + k_header_size;
    if (size > data.size() - data_offset) {
      return corrupt(origin, pos, "member size " + std::to_string(size) + " exceeds the archive");
    }
    std::string_view raw_name = trim_right(header.substr(0, 16));
    std::string name;
    uint64_t member_offset = data_offset;
    uint64_t member_size = size;
    bool skip = false;
    if (raw_name == "/" || raw_name == "/SYM64/" || raw_name == "__.SYMDEF" ||
        raw_name == "__.SYMDEF SORTED") {
      skip = true;
    } else if (raw_name == "//") {
      long_names = data.substr(data_offset, size);
      skip = true;
    } else if (raw_name.size() > 1 && raw_name[0] == '/' && raw_name[1] >= '0' &&
               raw_name[1] <= '9') {
      uint64_t index = 0;
      if (!parse_decimal(raw_name.substr(1), index) || index >= long_names.size()) {
        return corrupt(origin, pos, "bad long-name reference " + std::string(raw_name));
      }
      std::string_view rest = long_names.substr(index);
      size_t end = rest.find('\n');
      if (end == std::string_view::npos) {
        return corrupt(origin, pos, "unterminated long name");
      }
      rest = rest.substr(0, end);
      if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
      }
      name = rest;
    } else if (raw_name.size() > 3 && raw_name.substr(0, 3) == "#1/") {
      uint64_t name_length = 0;
      if (!parse_decimal(raw_name.substr(3), name_length) || name_length > size) {
        return corrupt(origin, pos, "bad BSD long name " + std::string(raw_name));
      }
      name = trim_right(data.substr(data_offset, name_length));
      member_offset += name_length;
      member_size -= name_length;
    } else {
      if (raw_name.size() > 1 && raw_name.back() == '/') {
        raw_name.remove_suffix(1);
      }
      name = raw_name;
    }
    if (!skip) {
      if (name.empty()) {
        return corrupt(origin, pos, "empty member name");
      }
      members.push_back(ArMember{std::move(name), member_offset, member_size});
    }
    pos = data_offset + size;
    if (pos % 2 == 1 && pos < data.size()) {
      pos += 1;  // data is padded to an even offset
    }
  }
  return members;
}

}  // namespace distill::archive
