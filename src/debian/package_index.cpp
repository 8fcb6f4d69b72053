// Packages index parsing and lookup; see package_index.hpp.
#include "debian/package_index.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "debian/control.hpp"

namespace distill::debian {

namespace {

// What PackageIndex and PackagesText key names by.
uint64_t name_hash(std::string_view name) { return std::hash<std::string_view>{}(name); }

Error stanza_error(const std::string& origin, int line, const std::string& why) {
  return make_error(ErrorKind::InvalidInput, origin + ":" + std::to_string(line) + ": " + why);
}

// Field names a Packages stanza is looked up by, lower-cased, for one pass over
// the fields.
enum class Key {
  Other,
  Package,
  Version,
  Architecture,
  MultiArch,
  Source,
  Maintainer,
  Filename,
  Section,
  Essential,
  Size,
  InstalledSize,
  Sha256,
  Depends,
  PreDepends,
  Provides,
  Conflicts,
  Breaks
};

Key classify(std::string_view name) {
  switch (name.size()) {
    case 4:
      return iequals(name, "Size") ? Key::Size : Key::Other;
    case 6:
      if (iequals(name, "Breaks")) {
        return Key::Breaks;
      }
      return iequals(name, "Source") ? Key::Source
                                     : (iequals(name, "SHA256") ? Key::Sha256 : Key::Other);
    case 7:
      if (iequals(name, "Package")) {
        return Key::Package;
      }
      if (iequals(name, "Version")) {
        return Key::Version;
      }
      if (iequals(name, "Depends")) {
        return Key::Depends;
      }
      return iequals(name, "Section") ? Key::Section : Key::Other;
    case 8:
      if (iequals(name, "Filename")) {
        return Key::Filename;
      }
      return iequals(name, "Provides") ? Key::Provides : Key::Other;
    case 9:
      if (iequals(name, "Conflicts")) {
        return Key::Conflicts;
      }
      return iequals(name, "Essential") ? Key::Essential : Key::Other;
    case 10:
      if (iequals(name, "Multi-Arch")) {
        return Key::MultiArch;
      }
      return iequals(name, "Maintainer") ? Key::Maintainer : Key::Other;
    case 11:
      return iequals(name, "Pre-Depends") ? Key::PreDepends : Key::Other;
    case 12:
      return iequals(name, "Architecture") ? Key::Architecture : Key::Other;
    case 14:
      return iequals(name, "Installed-Size") ? Key::InstalledSize : Key::Other;
    default:
      return Key::Other;
  }
}

}  // namespace

namespace {

std::string invalid_name(std::string_view name) {
  std::string shown(name.substr(0, 80));
  return "invalid package name '" + shown +
         "' (Debian Policy 5.6.1: lowercase letters, digits, '+', '-', '.')";
}

// Builds PackageRecords straight from the raw field values (no Paragraph).
class RecordBuilder : public ControlVisitor {
 public:
  // `stanza_line`: errors name this line (a stanza of a compacted text, whose
  // own line numbers are not the file's) instead of the field's.
  RecordBuilder(std::string_view text, const std::string& origin, int stanza_line = 0)
      : m_origin(origin), m_stanza_line(stanza_line) {
    m_records.reserve(text.size() / 900 + 1);
  }

  Status field(std::string_view name, std::string_view raw, int line) override {
    if (m_stanza_line != 0) {
      line = m_stanza_line;
    }
    auto relations = [&](std::vector<RelationGroup>& out) -> Status {
      auto parsed = parse_relations(raw);
      if (!parsed.ok()) {
        return stanza_error(m_origin, line, std::string(name) + ": " + parsed.error().message);
      }
      out = std::move(*parsed);
      return {};
    };
    PackageRecord& r = m_current;
    const Key key = classify(name);
    switch (key) {
      case Key::Package:
        r.name = trim(raw);
        break;
      case Key::Version:
        r.version = trim(raw);
        break;
      case Key::Architecture:
        r.arch = trim(raw);
        break;
      case Key::MultiArch:
        r.multi_arch = trim(raw);
        break;
      case Key::Source: {
        // "name" or "name (version)"
        std::string_view value = trim(raw);
        size_t paren = value.find('(');
        if (paren != std::string_view::npos) {
          size_t close = value.find(')', paren);
          r.source_version =
              trim(value.substr(paren + 1, close == std::string_view::npos ? std::string_view::npos
                                                                           : close - paren - 1));
          value = trim(value.substr(0, paren));
        }
        r.source = value;
        break;
      }
      case Key::Maintainer:
        r.maintainer = trim(raw);
        break;
      case Key::Filename:
        r.filename = trim(raw);
        break;
      case Key::Section:
        r.section = trim(raw);
        break;
      case Key::Essential:
        r.essential = iequals(trim(raw), "yes");
        break;
      case Key::Size:
        if (!parse_u64(raw, r.size)) {
          return stanza_error(m_origin, line, "invalid Size '" + std::string(trim(raw)) + "'");
        }
        break;
      case Key::InstalledSize:
        if (!parse_u64(raw, r.installed_size)) {
          return stanza_error(m_origin, line,
                              "invalid Installed-Size '" + std::string(trim(raw)) + "'");
        }
        break;
      case Key::Sha256: {
        auto digest = crypto::Digest::from_hex(trim(raw));
        if (!digest.ok()) {
          return stanza_error(m_origin, line, "invalid SHA256 '" + std::string(trim(raw)) + "'");
        }
        r.sha256 = std::move(*digest);
        m_has_sha = true;
        break;
      }
      case Key::Depends:
        return relations(r.depends);
      case Key::PreDepends:
        return relations(r.pre_depends);
      case Key::Provides:
      case Key::Conflicts:
      case Key::Breaks: {
        std::vector<RelationGroup> groups;
        DISTILL_CHECK(relations(groups));
        auto& out = key == Key::Provides    ? r.provides
                    : key == Key::Conflicts ? r.conflicts
                                            : r.breaks;
        for (RelationGroup& group : groups) {
          if (group.alternatives.size() != 1) {
            return stanza_error(m_origin, line,
                                std::string(name) + ": alternatives are not allowed");
          }
          out.push_back(std::move(group.alternatives.front()));
        }
        break;
      }
      case Key::Other:
        break;
    }
    return {};
  }

  Status paragraph_end(int first_line) override {
    if (m_stanza_line != 0) {
      first_line = m_stanza_line;
    }
    PackageRecord& r = m_current;
    const char* missing = r.name.empty()       ? "Package"
                          : r.version.empty()  ? "Version"
                          : r.filename.empty() ? "Filename"
                          : !m_has_sha         ? "SHA256"
                                               : nullptr;
    if (missing != nullptr) {
      std::string what = r.name.empty() ? std::string("stanza") : "package '" + r.name + "'";
      return stanza_error(m_origin, first_line, what + " lacks the " + missing + " field");
    }
    if (!is_valid_package_name(r.name)) {
      return stanza_error(m_origin, first_line, invalid_name(r.name));
    }
    if (r.source.empty()) {
      r.source = r.name;
    }
    if (r.source_version.empty()) {
      r.source_version = r.version;
    }
    m_records.push_back(std::move(r));
    m_current = PackageRecord();
    m_has_sha = false;
    return {};
  }

  std::vector<PackageRecord> take() { return std::move(m_records); }

 private:
  const std::string& m_origin;
  int m_stanza_line;
  std::vector<PackageRecord> m_records;
  PackageRecord m_current;
  bool m_has_sha = false;
};

// Scans complete stanzas of a Packages text for PackagesText: appends the
// fields a PackageRecord reads to `compact` and notes each stanza's name,
// place there, first line and Provides; the fields a record cannot lack are
// checked here so a lookup later cannot meet a stanza without them.
class StanzaScanner : public ControlVisitor {
 public:
  StanzaScanner(const std::string& origin, int line_offset, std::string& compact,
                std::vector<PackagesText::Stanza>& found,
                std::vector<std::pair<uint64_t, uint32_t>>& provided)
      : m_origin(origin),
        m_line_offset(line_offset),
        m_compact(compact),
        m_found(found),
        m_provided(provided) {}

  Status field(std::string_view name, std::string_view raw, int line) override {
    line += m_line_offset;
    Key key = classify(name);
    if (key == Key::Other) {
      return {};
    }
    if (!m_open) {
      m_open = true;
      m_current.begin = m_compact.size();
    }
    // "Name: value" as written (continuation lines included), then a newline.
    const size_t at = m_compact.size();
    m_compact.append(name.data(), static_cast<size_t>(raw.data() + raw.size() - name.data()));
    m_compact.push_back('\n');
    switch (key) {
      case Key::Package: {
        std::string_view value = trim(raw);
        m_current.name_begin = at + static_cast<size_t>(value.data() - name.data());
        m_current.name_size = static_cast<uint32_t>(value.size());
        break;
      }
      case Key::Version:
        m_has_version = !trim(raw).empty();
        break;
      case Key::Filename:
        m_has_filename = !trim(raw).empty();
        break;
      case Key::Sha256:
        m_has_sha = true;
        break;
      case Key::Provides: {
        auto parsed = parse_relations(raw);
        if (!parsed.ok()) {
          return stanza_error(m_origin, line, "Provides: " + parsed.error().message);
        }
        for (const RelationGroup& group : *parsed) {
          if (group.alternatives.size() != 1) {
            return stanza_error(m_origin, line, "Provides: alternatives are not allowed");
          }
          m_provided.emplace_back(name_hash(group.alternatives.front().name),
                                  static_cast<uint32_t>(m_found.size()));
        }
        break;
      }
      default:
        break;
    }
    return {};
  }

  Status paragraph_end(int first_line) override {
    first_line += m_line_offset;
    // Empty without a Package field (name_size 0).
    std::string_view name =
        std::string_view(m_compact).substr(m_current.name_begin, m_current.name_size);
    const char* missing = name.empty()      ? "Package"
                          : !m_has_version  ? "Version"
                          : !m_has_filename ? "Filename"
                          : !m_has_sha      ? "SHA256"
                                            : nullptr;
    if (missing != nullptr) {
      std::string what =
          name.empty() ? std::string("stanza") : "package '" + std::string(name) + "'";
      return stanza_error(m_origin, first_line, what + " lacks the " + missing + " field");
    }
    if (!is_valid_package_name(name)) {
      return stanza_error(m_origin, first_line, invalid_name(std::string(name)));
    }
    m_current.end = m_compact.size();
    m_current.line = static_cast<uint32_t>(first_line);
    m_compact.push_back('\n');
    m_found.push_back(m_current);
    m_current = PackagesText::Stanza();
    m_open = m_has_version = m_has_filename = m_has_sha = false;
    return {};
  }

 private:
  const std::string& m_origin;
  int m_line_offset;
  std::string& m_compact;
  std::vector<PackagesText::Stanza>& m_found;
  std::vector<std::pair<uint64_t, uint32_t>>& m_provided;
  PackagesText::Stanza m_current;
  bool m_open = false, m_has_version = false, m_has_filename = false, m_has_sha = false;
};

}  // namespace

Result<std::vector<PackageRecord>> parse_packages(std::string_view text,
                                                  const std::string& origin) {
  RecordBuilder builder(text, origin);
  DISTILL_CHECK(scan_control(text, origin, builder));
  return builder.take();
}

void PackageIndex::add(std::vector<PackageRecord> records) {
  std::lock_guard lock(*m_mutex);
  m_names.refs.reserve(m_names.refs.size() + records.size());
  for (PackageRecord& record : records) {
    m_records.push_back(std::move(record));
    const PackageRecord* stored = &m_records.back();
    auto id = static_cast<uint32_t>(m_stanzas.size());
    m_stanzas.push_back(Stanza{stored});
    m_names.add(name_hash(stored->name), id);
    for (const Relation& provide : stored->provides) {
      m_provided.add(name_hash(provide.name), id);
    }
  }
}

PackagesText::PackagesText(std::string origin, size_t expected_size, uint64_t max_size)
    : m_origin(std::move(origin)), m_max_size(max_size) {
  if (m_max_size != 0) {
    expected_size = std::min<uint64_t>(expected_size, m_max_size);
  }
  // Debian's indexes keep about 60% of their bytes; a little more avoids a
  // last doubling of a 30 MB string.
  m_compact.reserve(expected_size / 3 * 2);
}

Status PackagesText::write(const void* data, size_t size) {
  if (m_finished) {
    return make_error(ErrorKind::Internal, m_origin + ": written after the end");
  }
  m_written += size;
  if (m_max_size != 0 && m_written > m_max_size) {
    return make_error(
        ErrorKind::Corrupt,
        m_origin + ": more than the " + std::to_string(m_max_size) + " bytes its Release declares");
  }
  // Only the new bytes (and the newline before them) can hold a new blank
  // line: searching them alone keeps the scan linear however long a stanza is.
  size_t from = m_pending.empty() ? 0 : m_pending.size() - 1;
  m_pending.append(static_cast<const char*>(data), size);
  // Everything up to the last blank line holds complete stanzas.
  size_t cut = std::string_view(m_pending).substr(from).rfind("\n\n");
  if (cut == std::string_view::npos) {
    if (m_pending.size() > k_max_stanza) {
      return make_error(ErrorKind::Corrupt,
                        m_origin + ":" + std::to_string(m_lines + 1) + ": a stanza longer than " +
                            std::to_string(k_max_stanza >> 20) + " MiB (not a Packages index)");
    }
    return {};
  }
  cut += from + 2;
  DISTILL_CHECK(scan(std::string_view(m_pending).substr(0, cut)));
  m_pending.erase(0, cut);
  if (m_pending.size() > k_max_stanza) {
    return make_error(ErrorKind::Corrupt,
                      m_origin + ":" + std::to_string(m_lines + 1) + ": a stanza longer than " +
                          std::to_string(k_max_stanza >> 20) + " MiB (not a Packages index)");
  }
  return {};
}

Status PackagesText::finish() {
  if (m_finished) {
    return {};
  }
  m_finished = true;
  DISTILL_CHECK(scan(m_pending));
  m_pending = std::string();
  return {};
}

Status PackagesText::scan(std::string_view complete) {
  StanzaScanner scanner(m_origin, static_cast<int>(m_lines), m_compact, m_stanzas, m_provided);
  int lines = 0;
  DISTILL_CHECK(scan_control(complete, m_origin, scanner, &lines));
  // Each piece but the last ends with a newline: its lines are its newlines.
  m_lines += static_cast<uint32_t>(lines);
  return {};
}

Status PackageIndex::add_text(std::string_view text, IndexOrigin origin) {
  PackagesText packages(origin.url, text.size());
  DISTILL_CHECK(packages.write(text));
  DISTILL_CHECK(packages.finish());
  add(std::move(packages), std::move(origin));
  return {};
}

void PackageIndex::add(PackagesText text, IndexOrigin origin) {
  std::lock_guard lock(*m_mutex);
  auto text_id = static_cast<uint32_t>(m_texts.size());
  auto first = static_cast<uint32_t>(m_stanzas.size());
  std::string_view compact = text.m_compact;
  m_stanzas.reserve(m_stanzas.size() + text.m_stanzas.size());
  m_names.refs.reserve(m_names.refs.size() + text.m_stanzas.size());
  for (const auto& f : text.m_stanzas) {
    auto id = static_cast<uint32_t>(m_stanzas.size());
    m_stanzas.push_back(Stanza{nullptr, text_id, f});
    m_names.add(name_hash(compact.substr(f.name_begin, f.name_size)), id);
  }
  for (auto [hash, index] : text.m_provided) {
    m_provided.add(hash, first + index);
  }
  m_texts.push_back(std::move(text.m_compact));
  m_origins.push_back(std::move(origin));
}

std::vector<std::string_view> PackageIndex::names() const {
  std::lock_guard lock(*m_mutex);
  std::vector<std::string_view> out;
  out.reserve(m_stanzas.size());
  for (const Stanza& stanza : m_stanzas) {
    out.push_back(name_of(stanza));
  }
  return out;
}

std::string_view PackageIndex::name_of(const Stanza& stanza) const {
  if (stanza.record != nullptr) {
    return stanza.record->name;
  }
  return std::string_view(m_texts[stanza.text]).substr(stanza.in.name_begin, stanza.in.name_size);
}

void PackageIndex::NameRefs::add(uint64_t hash, uint32_t stanza) {
  refs.push_back({hash, stanza});
  sorted = false;
}

std::vector<uint32_t> PackageIndex::NameRefs::stanzas(std::string_view name) {
  if (!sorted) {
    std::sort(refs.begin(), refs.end());
    sorted = true;
  }
  const uint64_t h = name_hash(name);
  auto it = std::lower_bound(refs.begin(), refs.end(), NameRef{h, 0});
  std::vector<uint32_t> found;
  for (; it != refs.end() && it->hash == h; ++it) {
    if (found.empty() || found.back() != it->stanza) {  // "Provides: a, a" once
      found.push_back(it->stanza);
    }
  }
  return found;
}

const PackageRecord* PackageIndex::materialize(Stanza& stanza) const {
  if (stanza.record != nullptr) {
    return stanza.record;
  }
  const IndexOrigin& origin = m_origins[stanza.text];
  std::string_view text = std::string_view(m_texts[stanza.text])
                              .substr(stanza.in.begin, stanza.in.end - stanza.in.begin);
  RecordBuilder builder(text, origin.url, static_cast<int>(stanza.in.line));
  Status parsed = scan_control(text, origin.url, builder);
  auto records = builder.take();
  if (!parsed.ok() || records.size() != 1) {
    if (!m_error) {
      m_error = parsed.ok() ? make_error(ErrorKind::InvalidInput,
                                         origin.url + ":" + std::to_string(stanza.in.line) +
                                             ": not one package stanza")
                            : parsed.error();
    }
    return nullptr;
  }
  PackageRecord& record = records.front();
  record.repo_url = origin.repo_url;
  record.suite = origin.suite;
  record.component = origin.component;
  m_records.push_back(std::move(record));
  stanza.record = &m_records.back();
  return stanza.record;
}

const std::vector<const PackageRecord*>& PackageIndex::by_name(std::string_view name) const {
  std::lock_guard lock(*m_mutex);
  if (auto it = m_by_name.find(name); it != m_by_name.end()) {
    return it->second;
  }
  std::vector<const PackageRecord*> records;
  for (uint32_t id : m_names.stanzas(name)) {
    // The same hash is not always the same name.
    if (name_of(m_stanzas[id]) != name) {
      continue;
    }
    if (const PackageRecord* record = materialize(m_stanzas[id])) {
      records.push_back(record);
    }
  }
  return m_by_name.emplace(std::string(name), std::move(records)).first->second;
}

const std::vector<PackageIndex::Provider>& PackageIndex::providers(
    std::string_view virtual_name) const {
  std::lock_guard lock(*m_mutex);
  if (auto it = m_providers.find(virtual_name); it != m_providers.end()) {
    return it->second;
  }
  std::vector<Provider> providers;
  for (uint32_t id : m_provided.stanzas(virtual_name)) {
    const PackageRecord* record = materialize(m_stanzas[id]);
    if (record == nullptr) {
      continue;
    }
    // A stanza providing a name of the same hash provides none here.
    for (const Relation& provide : record->provides) {
      if (provide.name == virtual_name) {
        providers.emplace_back(record, &provide);
      }
    }
  }
  return m_providers.emplace(std::string(virtual_name), std::move(providers)).first->second;
}

void PackageIndex::describe_source(std::string what) {
  std::lock_guard lock(*m_mutex);
  m_source = std::move(what);
}

std::vector<std::string> PackageIndex::origins() const {
  std::lock_guard lock(*m_mutex);
  if (!m_source.empty()) {
    return {m_source};
  }
  auto repository = [](const std::string& url, const std::string& suite) {
    return suite.empty() ? url : url + " " + suite;
  };
  std::set<std::string> seen;
  for (const IndexOrigin& origin : m_origins) {
    if (!origin.repo_url.empty()) {
      seen.insert(repository(origin.repo_url, origin.suite));
    }
  }
  for (const Stanza& stanza : m_stanzas) {
    if (stanza.record != nullptr && !stanza.record->repo_url.empty()) {
      seen.insert(repository(stanza.record->repo_url, stanza.record->suite));
    }
  }
  return {seen.begin(), seen.end()};
}

Status PackageIndex::status() const {
  std::lock_guard lock(*m_mutex);
  if (m_error) {
    return *m_error;
  }
  return {};
}

}  // namespace distill::debian
