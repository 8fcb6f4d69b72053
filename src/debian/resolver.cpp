// Greedy dependency resolver; see resolver.hpp for the rules it follows.
#include "debian/resolver.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "debian/version.hpp"
#include "util/nearest_word.hpp"

namespace distill::debian {

namespace {

struct Deferred {
  const PackageRecord* owner;
  const RelationGroup* group;
};

bool provide_satisfies(const Relation& provide, const Relation& wanted) {
  if (wanted.op == VersionOp::Any) {
    return true;
  }
  return provide.op == VersionOp::Equal &&
         version_satisfies(provide.version, wanted.op, wanted.version);
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += parts[i];
  }
  return out;
}

class Resolver {
 public:
  Resolver(const PackageIndex& index, const ResolveRequest& request)
      : m_index(index), m_request(request) {
    m_excluded.insert(request.exclude.begin(), request.exclude.end());
    for (const auto& [name, version] : request.installed) {
      m_installed[name] = version;
      // What an installed package provides counts too, when the index knows it.
      for (const PackageRecord* record : index.by_name(name)) {
        if (compare_versions(record->version, version) == 0 && arch_ok(*record, nullptr)) {
          for (const Relation& provide : record->provides) {
            m_selected_provides[provide.name].push_back(&provide);
          }
          break;
        }
      }
    }
  }

  Result<std::vector<const PackageRecord*>> run() {
    for (const std::string& spec : m_request.packages) {
      DISTILL_CHECK(request_package(spec));
    }
    while (!m_queue.empty() || !m_deferred.empty()) {
      while (!m_queue.empty()) {
        const PackageRecord* record = m_queue.front();
        m_queue.pop_front();
        DISTILL_CHECK(process(*record));
      }
      if (!m_deferred.empty()) {
        Deferred next = m_deferred.front();
        m_deferred.pop_front();
        DISTILL_CHECK(satisfy(*next.owner, *next.group));
      }
    }
    std::vector<const PackageRecord*> out;
    out.reserve(m_selected.size());
    for (const auto& [name, record] : m_selected) {
      out.push_back(record);
    }
    return out;  // m_selected is a std::map: sorted by name
  }

 private:
  [[nodiscard]] bool arch_ok(const PackageRecord& record, const Relation* rel) const {
    if (record.arch != m_request.arch && record.arch != "all") {
      return false;
    }
    if (rel == nullptr || rel->arch_qualifier.empty()) {
      return true;
    }
    const std::string& q = rel->arch_qualifier;
    return q == "any" || q == "native" || q == m_request.arch;
  }

  [[nodiscard]] bool satisfied(const Relation& rel) const {
    if (m_excluded.count(rel.name) != 0) {
      return true;
    }
    if (auto it = m_installed.find(rel.name); it != m_installed.end()) {
      if (version_satisfies(it->second, rel.op, rel.version)) {
        return true;
      }
    }
    if (auto it = m_selected.find(rel.name); it != m_selected.end()) {
      if (version_satisfies(it->second->version, rel.op, rel.version)) {
        return true;
      }
    }
    if (auto it = m_selected_provides.find(rel.name); it != m_selected_provides.end()) {
      for (const Relation* provide : it->second) {
        if (provide_satisfies(*provide, rel)) {
          return true;
        }
      }
    }
    return false;
  }

  // Whether `record` may be newly selected (no other version chosen or present).
  [[nodiscard]] bool selectable(const PackageRecord& record) const {
    if (m_excluded.count(record.name) != 0) {
      return false;
    }
    if (auto it = m_selected.find(record.name); it != m_selected.end()) {
      return it->second == &record;
    }
    return m_installed.count(record.name) == 0;
  }

  // Installable records satisfying `rel`, best first: real packages by descending
  // version, then providers by name and descending version.
  [[nodiscard]] std::vector<const PackageRecord*> candidates(const Relation& rel) const {
    std::vector<const PackageRecord*> real;
    for (const PackageRecord* record : m_index.by_name(rel.name)) {
      if (arch_ok(*record, &rel) && version_satisfies(record->version, rel.op, rel.version) &&
          selectable(*record)) {
        real.push_back(record);
      }
    }
    std::stable_sort(real.begin(), real.end(), [&](const PackageRecord* a, const PackageRecord* b) {
      int c = compare_versions(a->version, b->version);
      if (c != 0) {
        return c > 0;
      }
      return a->arch != "all" && b->arch == "all";  // the target arch first
    });
    std::vector<const PackageRecord*> provided;
    for (const auto& [record, provide] : m_index.providers(rel.name)) {
      if (arch_ok(*record, &rel) && provide_satisfies(*provide, rel) && selectable(*record)) {
        provided.push_back(record);
      }
    }
    std::stable_sort(provided.begin(), provided.end(),
                     [](const PackageRecord* a, const PackageRecord* b) {
                       if (a->name != b->name) {
                         return a->name < b->name;
                       }
                       return compare_versions(a->version, b->version) > 0;
                     });
    real.insert(real.end(), provided.begin(), provided.end());
    return real;
  }

  void select(const PackageRecord& record, const std::string& parent) {
    if (m_selected.count(record.name) != 0) {
      return;
    }
    m_selected[record.name] = &record;
    m_parent[record.name] = parent;
    for (const Relation& provide : record.provides) {
      m_selected_provides[provide.name].push_back(&provide);
    }
    m_queue.push_back(&record);
  }

  Status process(const PackageRecord& record) {
    for (const auto* groups : {&record.pre_depends, &record.depends}) {
      for (const RelationGroup& group : *groups) {
        if (group.alternatives.size() > 1) {
          m_deferred.push_back(Deferred{&record, &group});
          continue;
        }
        DISTILL_CHECK(satisfy(record, group));
      }
    }
    return {};
  }

  Status satisfy(const PackageRecord& owner, const RelationGroup& group) {
    for (const Relation& rel : group.alternatives) {
      if (satisfied(rel)) {
        return {};
      }
    }
    for (const Relation& rel : group.alternatives) {
      std::vector<const PackageRecord*> found = candidates(rel);
      if (!found.empty()) {
        select(*found.front(), owner.name);
        return {};
      }
    }
    std::vector<std::string> reasons;
    for (const Relation& rel : group.alternatives) {
      reasons.push_back(explain(rel));
    }
    return make_error(ErrorKind::InvalidInput,
                      "cannot install '" + owner.name + "': " + owner.name + " " + owner.version +
                          " depends on '" + group.to_string() + "', " + join(reasons, "; ") + " (" +
                          chain(owner.name) + ")");
  }

  // Why no package satisfies `rel`.
  [[nodiscard]] std::string explain(const Relation& rel) const {
    if (auto it = m_selected.find(rel.name); it != m_selected.end()) {
      return rel.name + " " + it->second->version + " is already selected (" + chain(rel.name) +
             ")";
    }
    if (auto it = m_installed.find(rel.name); it != m_installed.end()) {
      return "the base image has " + rel.name + " " + it->second;
    }
    if (!rel.arch_qualifier.empty() && rel.arch_qualifier != "any" &&
        rel.arch_qualifier != "native" && rel.arch_qualifier != m_request.arch) {
      return "architecture " + rel.arch_qualifier + " is not installable in a " + m_request.arch +
             " image";
    }
    std::vector<const PackageRecord*> same_arch;
    bool other_arch = false;
    for (const PackageRecord* record : m_index.by_name(rel.name)) {
      if (arch_ok(*record, nullptr)) {
        same_arch.push_back(record);
      } else {
        other_arch = true;
      }
    }
    if (!same_arch.empty()) {
      std::vector<std::string> versions;
      for (const PackageRecord* record : same_arch) {
        versions.push_back(record->version);
      }
      std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
        return compare_versions(a, b) > 0;
      });
      versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
      if (rel.op == VersionOp::GreaterEqual || rel.op == VersionOp::Greater) {
        return rel.name + " " + versions.front() + " is too old";
      }
      if (rel.op == VersionOp::Less || rel.op == VersionOp::LessEqual) {
        return rel.name + " " + versions.back() + " is too new";
      }
      return "no version of " + rel.name + " matches (available: " + join(versions, ", ") + ")";
    }
    const auto& providers = m_index.providers(rel.name);
    std::vector<std::string> names;
    for (const auto& [record, provide] : providers) {
      if (arch_ok(*record, nullptr)) {
        names.push_back(record->name +
                        (provide->op == VersionOp::Any ? "" : " (= " + provide->version + ")"));
      }
    }
    if (!names.empty()) {
      std::sort(names.begin(), names.end());
      names.erase(std::unique(names.begin(), names.end()), names.end());
      return "'" + rel.name + "' is a virtual package whose providers do not fit (" +
             join(names, ", ") + ")";
    }
    if (other_arch) {
      return "'" + rel.name + "' is not available for " + m_request.arch;
    }
    return "no package '" + rel.name + "' is available";
  }

  [[nodiscard]] std::string chain(const std::string& name) const {
    std::vector<std::string> path;
    std::string current = name;
    std::set<std::string> seen;
    while (!current.empty() && seen.insert(current).second) {
      path.push_back(current);
      auto it = m_parent.find(current);
      current = it != m_parent.end() ? it->second : std::string();
    }
    if (path.size() == 1) {
      return "requested";
    }
    std::reverse(path.begin(), path.end());
    return "required by: " + join(path, " -> ");
  }

  Status request_package(const std::string& spec) {
    DISTILL_TRY(Relation rel, parse_package_request(spec));
    if (m_excluded.count(rel.name) != 0) {
      return make_error(ErrorKind::InvalidInput,
                        "package '" + rel.name + "' is both requested and excluded");
    }
    if (auto it = m_installed.find(rel.name); it != m_installed.end()) {
      if (version_satisfies(it->second, rel.op, rel.version)) {
        return {};
      }
      return make_error(
          ErrorKind::InvalidInput,
          "cannot install '" + spec + "': the base image has " + rel.name + " " + it->second);
    }
    if (auto it = m_selected.find(rel.name); it != m_selected.end()) {
      if (version_satisfies(it->second->version, rel.op, rel.version)) {
        return {};
      }
    }
    std::vector<const PackageRecord*> found = candidates(rel);
    if (!found.empty()) {
      select(*found.front(), {});
      return {};
    }
    if (m_index.by_name(rel.name).empty() && m_index.providers(rel.name).empty()) {
      std::vector<std::string> origins = m_index.origins();
      return make_error(
          ErrorKind::InvalidInput,
          "package '" + rel.name + "' not found in " +
              (origins.empty() ? std::string("the package index") : join(origins, ", ")) +
              util::did_you_mean(util::nearest_name(rel.name, m_index.names())));
    }
    return make_error(ErrorKind::InvalidInput, "cannot install '" + spec + "': " + explain(rel));
  }

  const PackageIndex& m_index;
  const ResolveRequest& m_request;
  std::set<std::string> m_excluded;
  std::map<std::string, std::string> m_installed;
  std::map<std::string, const PackageRecord*> m_selected;
  std::map<std::string, std::string> m_parent;
  std::map<std::string, std::vector<const Relation*>> m_selected_provides;
  std::deque<const PackageRecord*> m_queue;
  std::deque<Deferred> m_deferred;
};

}  // namespace

namespace {

// Whether `relation` (from a Conflicts or Breaks of another package) hits a
// package called `name` at `version` providing `provides`. Like dpkg, an
// unversioned relation on a virtual name hits its providers, and a versioned
// one only providers that give a version.
bool hits(const Relation& relation, const std::string& name, const std::string& version,
          const std::vector<Relation>& provides) {
  if (relation.name == name && version_satisfies(version, relation.op, relation.version)) {
    return true;
  }
  for (const Relation& provided : provides) {
    if (provided.name != relation.name) {
      continue;
    }
    if (relation.op == VersionOp::Any) {
      return true;
    }
    if (provided.op == VersionOp::Equal &&
        version_satisfies(provided.version, relation.op, relation.version)) {
      return true;
    }
  }
  return false;
}

// Debian refuses to co-install a package and one its Conflicts or Breaks
// names (Policy §7.3, §7.4); a package conflicting with itself (or with a
// virtual name it provides, the "Provides/Conflicts/Replaces" idiom) is fine.
Status check_conflicts(const std::vector<const PackageRecord*>& chosen,
                       const std::vector<std::pair<std::string, std::string>>& installed) {
  for (const PackageRecord* p : chosen) {
    for (const auto* field : {&p->conflicts, &p->breaks}) {
      const char* field_name = field == &p->conflicts ? "Conflicts" : "Breaks";
      for (const Relation& relation : *field) {
        for (const PackageRecord* q : chosen) {
          if (q == p || q->name == p->name) {
            continue;
          }
          if (hits(relation, q->name, q->version, q->provides)) {
            return make_error(ErrorKind::InvalidInput,
                              "packages " + p->name + " " + p->version + " and " + q->name + " " +
                                  q->version + " cannot be installed together (" + p->name + " " +
                                  field_name + ": " + relation.to_string() + ")");
          }
        }
        for (const auto& [name, version] : installed) {
          if (name != p->name && hits(relation, name, version, {})) {
            return make_error(ErrorKind::InvalidInput,
                              "package " + p->name + " " + p->version + " cannot be installed " +
                                  "over " + name + " " + version + " of the base image (" +
                                  p->name + " " + field_name + ": " + relation.to_string() + ")");
          }
        }
      }
    }
  }
  return {};
}

}  // namespace

Result<std::vector<const PackageRecord*>> resolve(const PackageIndex& index,
                                                  const ResolveRequest& request) {
  if (request.arch.empty()) {
    return make_error(ErrorKind::InvalidInput, "resolve: no target architecture given");
  }
  Resolver resolver(index, request);
  auto resolved = resolver.run();
  // A stanza that failed to parse on lookup was left out: the answer may be
  // wrong, and the malformed index is the error to report.
  DISTILL_CHECK(index.status());
  if (resolved.ok()) {
    DISTILL_CHECK(check_conflicts(*resolved, request.installed));
  }
  return resolved;
}

}  // namespace distill::debian
