// Deterministic ustar/pax writer. Header layout: POSIX.1-2017, pax(1), "ustar
// Interchange Format" and "pax Interchange Format" (typeflag 'x' records
// "<len> <keyword>=<value>\n"). See tar_writer.hpp for the exact byte choices.
#include "archive/tar_writer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

namespace distill::archive {

namespace {

constexpr size_t k_block = 512;
constexpr size_t k_copy_buffer = 128 * 1024;
constexpr uint64_t k_max_octal7 = 07777777;          // 8-byte fields
constexpr uint64_t k_max_octal11 = 077777777777ULL;  // 12-byte fields

using Block = std::array<char, k_block>;

// Writes `value` as zero-padded octal digits filling width-1 bytes, then NUL.
void put_octal(Block& block, size_t offset, size_t width, uint64_t value) {
  size_t digits = width - 1;
  for (size_t i = digits; i-- > 0;) {
    block[offset + i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  block[offset + digits] = '\0';
}

void put_string(Block& block, size_t offset, size_t width, std::string_view value) {
  if (!value.empty()) {  // an empty view may have a null data(), which memcpy must not get
    std::memcpy(block.data() + offset, value.data(), std::min(width, value.size()));
  }
}

char typeflag(EntryType type) {
  switch (type) {
    case EntryType::File:
      return '0';
    case EntryType::Hardlink:
      return '1';
    case EntryType::Symlink:
      return '2';
    case EntryType::CharDevice:
      return '3';
    case EntryType::BlockDevice:
      return '4';
    case EntryType::Directory:
      return '5';
    case EntryType::Fifo:
      return '6';
  }
  return '0';
}

struct HeaderFields {
  std::string_view name;
  std::string_view prefix;
  uint32_t mode = 0;
  uint64_t uid = 0, gid = 0, size = 0, mtime = 0;
  char type = '0';
  std::string_view linkname;
  std::string_view uname, gname;
  uint32_t dev_major = 0, dev_minor = 0;
};

Block make_header(const HeaderFields& f) {
  Block block{};
  put_string(block, 0, 100, f.name);
  put_octal(block, 100, 8, f.mode);
  put_octal(block, 108, 8, f.uid);
  put_octal(block, 116, 8, f.gid);
  put_octal(block, 124, 12, f.size);
  put_octal(block, 136, 12, f.mtime);
  block[156] = f.type;
  put_string(block, 157, 100, f.linkname);
  std::memcpy(block.data() + 257,
              "ustar\0"
              "00",
              8);
  put_string(block, 265, 32, f.uname);
  put_string(block, 297, 32, f.gname);
  put_octal(block, 329, 8, f.dev_major);
  put_octal(block, 337, 8, f.dev_minor);
  put_string(block, 345, 155, f.prefix);
  // The checksum is computed with the field itself as eight spaces.
  std::memset(block.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : block) {
    sum += static_cast<unsigned char>(c);
  }
  put_octal(block, 148, 7, sum);  // six digits + NUL
  block[155] = ' ';
  return block;
}

// One pax record: "<len> <key>=<value>\n" where len counts the whole record.
std::string pax_record(std::string_view key, std::string_view value) {
  size_t body = 1 + key.size() + 1 + value.size() + 1;
  size_t length = body + 1;
  while (std::to_string(length).size() + body != length) {
    length = std::to_string(length).size() + body;
  }
  std::string record = std::to_string(length);
  record += ' ';
  record += key;
  record += '=';
  record += value;
  record += '\n';
  return record;
}

// Splits `path` into ustar prefix + name if possible (name <= 100, prefix <= 155,
// split at a '/', name non-empty).
bool split_path(std::string_view path, std::string_view& prefix, std::string_view& name) {
  if (path.size() <= 100) {
    prefix = {};
    name = path;
    return true;
  }
  if (path.size() > 256) {
    return false;
  }
  // The earliest '/' that leaves name <= 100 bytes gives the shortest name; the
  // prefix must also fit 155 bytes.
  size_t start = path.size() - 101;  // name = path.substr(slash+1) must be <= 100
  for (size_t slash = path.find('/', start); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (slash > 155) {
      return false;
    }
    if (slash + 1 >= path.size()) {
      return false;
    }
    prefix = path.substr(0, slash);
    name = path.substr(slash + 1);
    return true;
  }
  return false;
}

}  // namespace

Status TarWriter::emit(const void* data, size_t size) {
  m_written += size;
  return m_out.write(data, size);
}

Status TarWriter::pad(uint64_t size) {
  static const Block k_zero{};
  size_t rest = static_cast<size_t>(size % k_block);
  if (rest == 0) {
    return {};
  }
  return emit(k_zero.data(), k_block - rest);
}

Status TarWriter::add_header(const TarEntry& entry, uint64_t size) {
  if (m_finished) {
    return make_error(ErrorKind::Internal, "tar writer: add after finish()");
  }
  if (entry.path.empty() || entry.path.find('\0') != std::string::npos) {
    return make_error(ErrorKind::InvalidInput,
                      "tar writer: invalid entry path \"" + entry.path + "\"");
  }
  std::string path = entry.path;
  if (entry.type == EntryType::Directory && path.back() != '/') {
    path += '/';
  }
  std::vector<std::pair<std::string_view, std::string>> pax;

  HeaderFields fields;
  if (!split_path(path, fields.prefix, fields.name)) {
    pax.emplace_back("path", path);
    fields.prefix = {};
    fields.name = std::string_view(path).substr(0, 100);
  }
  fields.mode = entry.mode & 07777;
  fields.type = typeflag(entry.type);
  fields.size = size;
  if (size > k_max_octal11) {
    pax.emplace_back("size", std::to_string(size));
    fields.size = 0;
  }
  fields.uid = entry.uid;
  if (entry.uid > k_max_octal7) {
    pax.emplace_back("uid", std::to_string(entry.uid));
    fields.uid = 0;
  }
  fields.gid = entry.gid;
  if (entry.gid > k_max_octal7) {
    pax.emplace_back("gid", std::to_string(entry.gid));
    fields.gid = 0;
  }
  if (entry.mtime < 0 || static_cast<uint64_t>(entry.mtime) > k_max_octal11) {
    pax.emplace_back("mtime", std::to_string(entry.mtime));
    fields.mtime = 0;
  } else {
    fields.mtime = static_cast<uint64_t>(entry.mtime);
  }
  if (entry.type == EntryType::Symlink || entry.type == EntryType::Hardlink) {
    if (entry.link_target.empty()) {
      return make_error(ErrorKind::InvalidInput,
                        "tar writer: " + entry.path + ": empty link target");
    }
    fields.linkname = std::string_view(entry.link_target).substr(0, 100);
    if (entry.link_target.size() > 100) {
      pax.emplace_back("linkpath", entry.link_target);
    }
  }
  fields.uname = entry.uname;
  if (entry.uname.size() > 31) {
    pax.emplace_back("uname", entry.uname);
    fields.uname = {};
  }
  fields.gname = entry.gname;
  if (entry.gname.size() > 31) {
    pax.emplace_back("gname", entry.gname);
    fields.gname = {};
  }
  if (entry.type == EntryType::CharDevice || entry.type == EntryType::BlockDevice) {
    fields.dev_major = std::min<uint32_t>(entry.dev_major, k_max_octal7);
    fields.dev_minor = std::min<uint32_t>(entry.dev_minor, k_max_octal7);
  }

  if (!pax.empty()) {
    std::sort(pax.begin(), pax.end());
    std::string records;
    for (const auto& [key, value] : pax) {
      records += pax_record(key, value);
    }
    std::string_view trimmed = entry.path;
    std::string pax_name = "PaxHeaders/" + std::string(trimmed.substr(trimmed.rfind('/') + 1));
    HeaderFields pax_fields;
    pax_fields.name = std::string_view(pax_name).substr(0, 100);
    pax_fields.mode = 0644;
    pax_fields.size = records.size();
    pax_fields.type = 'x';
    Block pax_header = make_header(pax_fields);
    DISTILL_CHECK(emit(pax_header.data(), pax_header.size()));
    DISTILL_CHECK(emit(records.data(), records.size()));
    DISTILL_CHECK(pad(records.size()));
  }
  Block header = make_header(fields);
  return emit(header.data(), header.size());
}

Status TarWriter::add(const TarEntry& entry, ContentReader* content) {
  uint64_t size = entry.type == EntryType::File ? entry.size : 0;
  DISTILL_CHECK(add_header(entry, size));
  if (size == 0) {
    return {};
  }
  if (content == nullptr) {
    return make_error(ErrorKind::Internal, "tar writer: " + entry.path + ": no content given");
  }
  if (!m_buffer) {
    m_buffer = util::make_arena_array<char>(k_copy_buffer);
  }
  uint64_t left = size;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, k_copy_buffer));
    DISTILL_TRY(std::string_view got, content->read_view(m_buffer.get(), want));
    if (got.empty()) {
      return make_error(ErrorKind::Corrupt, "tar writer: " + entry.path + ": content ended after " +
                                                std::to_string(size - left) + " of " +
                                                std::to_string(size) + " bytes");
    }
    DISTILL_CHECK(emit(got.data(), got.size()));
    left -= got.size();
  }
  return pad(size);
}

Status TarWriter::add(const TarEntry& entry, std::string_view content) {
  if (entry.type != EntryType::File) {
    return add(entry, nullptr);
  }
  DISTILL_CHECK(add_header(entry, content.size()));
  DISTILL_CHECK(emit(content.data(), content.size()));
  return pad(content.size());
}

Status TarWriter::finish() {
  if (m_finished) {
    return {};
  }
  m_finished = true;
  static const std::array<char, 2 * k_block> k_end{};
  DISTILL_CHECK(emit(k_end.data(), k_end.size()));
  return m_out.finish();
}

}  // namespace distill::archive
