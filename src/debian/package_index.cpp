// Packages index parsing and lookup; see package_index.hpp.
#include "debian/package_index.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "debian/control.hpp"

namespace distill::debian {

namespace {

Error stanza_error(const std::string& origin, int line, const std::string& why) {
  return make_error(ErrorKind::InvalidInput, origin + ":" + std::to_string(line) + ": " + why);
}

bool parse_u64(std::string_view text, uint64_t& out) {
  text = trim(text);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
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
  Provides
};

Key classify(std::string_view name) {
  switch (name.size()) {
    case 4:
      return iequals(name, "Size") ? Key::Size : Key::Other;
    case 6:
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

// Builds PackageRecords straight from the raw field values (no Paragraph).
class RecordBuilder : public ControlVisitor {
 public:
  RecordBuilder(std::string_view text, const std::string& origin) : m_origin(origin) {
    m_records.reserve(text.size() / 900 + 1);
  }

  Status field(std::string_view name, std::string_view raw, int line) override {
    auto relations = [&](std::vector<RelationGroup>& out) -> Status {
      auto parsed = parse_relations(raw);
      if (!parsed.ok()) {
        return stanza_error(m_origin, line, std::string(name) + ": " + parsed.error().message);
      }
      out = std::move(*parsed);
      return {};
    };
    PackageRecord& r = m_current;
    switch (classify(name)) {
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
      case Key::Provides: {
        std::vector<RelationGroup> groups;
        DISTILL_CHECK(relations(groups));
        for (RelationGroup& group : groups) {
          if (group.alternatives.size() != 1) {
            return stanza_error(m_origin, line, "Provides: alternatives are not allowed");
          }
          r.provides.push_back(std::move(group.alternatives.front()));
        }
        break;
      }
      case Key::Other:
        break;
    }
    return {};
  }

  Status paragraph_end(int first_line) override {
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
  std::vector<PackageRecord> m_records;
  PackageRecord m_current;
  bool m_has_sha = false;
};

}  // namespace

Result<std::vector<PackageRecord>> parse_packages(std::string_view text,
                                                  const std::string& origin) {
  RecordBuilder builder(text, origin);
  DISTILL_CHECK(scan_control(text, origin, builder));
  return builder.take();
}

void PackageIndex::add(std::vector<PackageRecord> records) {
  m_by_name.reserve(m_by_name.size() + records.size());
  for (PackageRecord& record : records) {
    m_records.push_back(std::move(record));
    const PackageRecord* stored = &m_records.back();
    auto it = m_by_name.find(std::string_view(stored->name));
    if (it == m_by_name.end()) {
      it = m_by_name.emplace(stored->name, std::vector<const PackageRecord*>{}).first;
    }
    it->second.push_back(stored);
    for (const Relation& provide : stored->provides) {
      auto pit = m_providers.find(std::string_view(provide.name));
      if (pit == m_providers.end()) {
        pit = m_providers.emplace(provide.name, std::vector<Provider>{}).first;
      }
      pit->second.emplace_back(stored, &provide);
    }
  }
}

const std::vector<const PackageRecord*>& PackageIndex::by_name(std::string_view name) const {
  static const std::vector<const PackageRecord*> k_none;
  auto it = m_by_name.find(name);
  return it != m_by_name.end() ? it->second : k_none;
}

const std::vector<PackageIndex::Provider>& PackageIndex::providers(
    std::string_view virtual_name) const {
  static const std::vector<Provider> k_none;
  auto it = m_providers.find(virtual_name);
  return it != m_providers.end() ? it->second : k_none;
}

std::vector<std::string> PackageIndex::origins() const {
  std::set<std::string> seen;
  for (const PackageRecord& record : m_records) {
    if (!record.repo_url.empty()) {
      seen.insert(record.repo_url + " " + record.suite);
    }
  }
  return {seen.begin(), seen.end()};
}

}  // namespace distill::debian
