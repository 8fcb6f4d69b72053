// Lock file JSON reading and writing (nlohmann-json); see lock_file.hpp.
#include "debian/lock_file.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace distill::debian {

namespace {

using nlohmann::json;

Error lock_error(const std::string& origin, const std::string& why) {
  return make_error(ErrorKind::InvalidInput, origin + ": " + why);
}

}  // namespace

namespace {

std::string join_groups(const std::vector<RelationGroup>& groups) {
  std::string out;
  for (const auto& g : groups) {
    out += (out.empty() ? "" : ", ") + g.to_string();
  }
  return out;
}

}  // namespace

LockedPackage lock_package(const PackageRecord& record) {
  LockedPackage p{record.name,     record.version, record.arch, record.filename,
                  record.repo_url, record.sha256,  record.size};
  p.depends = join_groups(record.depends);
  p.pre_depends = join_groups(record.pre_depends);
  for (const auto& r : record.provides) {
    p.provides += (p.provides.empty() ? "" : ", ") + r.to_string();
  }
  p.multi_arch = record.multi_arch;
  return p;
}

Result<std::vector<PackageRecord>> records_from_lock(const std::vector<LockedPackage>& locked,
                                                     const std::string& origin) {
  std::vector<PackageRecord> records;
  records.reserve(locked.size());
  for (const auto& p : locked) {
    PackageRecord r;
    r.name = p.name;
    r.version = p.version;
    r.arch = p.arch;
    r.filename = p.filename;
    r.repo_url = p.repo_url;
    r.sha256 = p.sha256;
    r.size = p.size;
    r.multi_arch = p.multi_arch;
    auto where = [&](const char* field) { return origin + ": package '" + p.name + "': " + field; };
    auto depends = parse_relations(p.depends);
    if (!depends.ok()) {
      return depends.error().context(where("depends"));
    }
    r.depends = std::move(depends).value();
    auto pre_depends = parse_relations(p.pre_depends);
    if (!pre_depends.ok()) {
      return pre_depends.error().context(where("pre_depends"));
    }
    r.pre_depends = std::move(pre_depends).value();
    auto provides = parse_relations(p.provides);
    if (!provides.ok()) {
      return provides.error().context(where("provides"));
    }
    for (auto& group : *provides) {
      for (auto& relation : group.alternatives) {
        r.provides.push_back(std::move(relation));
      }
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::string to_json(const LockFile& lock) {
  json root = json::object();
  root["version"] = lock.version;
  root["spec_digest"] = lock.spec_digest;
  json sources = json::array();
  for (const AptSource& source : lock.sources) {
    json s = json::object();
    s["url"] = source.url;
    s["suites"] = source.suites;
    s["components"] = source.components;
    if (!is_inline_key(source.keyring)) {
      s["keyring"] = source.keyring;
    }
    sources.push_back(std::move(s));
  }
  root["sources"] = std::move(sources);
  if (!lock.release_dates.empty()) {
    root["release_dates"] = lock.release_dates;
  }
  if (!lock.base_image.empty()) {
    root["base_image"] = {{"reference", lock.base_image}, {"digest", lock.base_image_digest}};
  }
  json packages = json::object();
  for (const auto& [arch, list] : lock.packages) {
    std::vector<LockedPackage> sorted = list;
    std::sort(sorted.begin(), sorted.end(), [](const LockedPackage& a, const LockedPackage& b) {
      return a.name != b.name ? a.name < b.name : a.version < b.version;
    });
    json entries = json::array();
    for (const LockedPackage& p : sorted) {
      json e = json::object();
      e["name"] = p.name;
      e["version"] = p.version;
      e["arch"] = p.arch;
      e["filename"] = p.filename;
      e["repo_url"] = p.repo_url;
      e["sha256"] = p.sha256.hex();
      e["size"] = p.size;
      for (const auto& [key, value] :
           {std::pair<const char*, const std::string*>{"depends", &p.depends},
            {"pre_depends", &p.pre_depends},
            {"provides", &p.provides},
            {"multi_arch", &p.multi_arch}}) {
        if (!value->empty()) {
          e[key] = *value;
        }
      }
      entries.push_back(std::move(e));
    }
    packages[arch] = std::move(entries);
  }
  root["packages"] = std::move(packages);
  if (!lock.archives.empty()) {
    json archives = json::object();
    for (const auto& [arch, list] : lock.archives) {
      json entries = json::array();
      for (const LockedArchive& a : list) {
        json e = json::object();
        e["url"] = a.url;
        e["sha256"] = a.sha256.hex();
        if (!a.name.empty()) {
          e["name"] = a.name;
        }
        if (!a.version.empty()) {
          e["version"] = a.version;
        }
        entries.push_back(std::move(e));
      }
      archives[arch] = std::move(entries);
    }
    root["archives"] = std::move(archives);
  }
  return root.dump(2) + "\n";
}

Result<LockFile> parse_lock(std::string_view text, const std::string& origin) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return lock_error(origin, std::string("invalid JSON: ") + e.what());
  }
  try {
    if (!root.is_object()) {
      return lock_error(origin, "expected a JSON object");
    }
    LockFile lock;
    lock.version = root.at("version").get<int>();
    if (lock.version != 1) {
      return make_error(ErrorKind::Unsupported, origin + ": lock file version " +
                                                    std::to_string(lock.version) +
                                                    " is not supported (expected 1)");
    }
    lock.spec_digest = root.value("spec_digest", std::string());
    const json sources = root.value("sources", json::array());
    for (const json& s : sources) {
      AptSource source;
      source.url = s.at("url").get<std::string>();
      source.suites = s.value("suites", std::vector<std::string>{});
      source.components = s.value("components", std::vector<std::string>{});
      source.keyring = s.value("keyring", std::string(k_default_keyring));
      source.origin = origin;
      lock.sources.push_back(std::move(source));
    }
    const json dates = root.value("release_dates", json::object());
    if (!dates.is_object()) {
      return lock_error(origin, "'release_dates' must be an object of URLs");
    }
    for (const auto& [url, date] : dates.items()) {
      lock.release_dates[url] = date.get<std::string>();
    }
    if (auto base = root.find("base_image"); base != root.end()) {
      lock.base_image = base->at("reference").get<std::string>();
      lock.base_image_digest = base->at("digest").get<std::string>();
      if (!crypto::Digest::parse(lock.base_image_digest).ok()) {
        return lock_error(origin, "base_image: invalid digest '" + lock.base_image_digest + "'");
      }
    }
    const json packages = root.value("packages", json::object());
    if (!packages.is_object()) {
      return lock_error(origin, "'packages' must be an object of architectures");
    }
    for (const auto& [arch, entries] : packages.items()) {
      std::vector<LockedPackage>& list = lock.packages[arch];
      for (const json& e : entries) {
        LockedPackage p;
        p.name = e.at("name").get<std::string>();
        p.version = e.at("version").get<std::string>();
        p.arch = e.at("arch").get<std::string>();
        p.filename = e.at("filename").get<std::string>();
        p.repo_url = e.at("repo_url").get<std::string>();
        p.size = e.at("size").get<uint64_t>();
        p.depends = e.value("depends", std::string());
        p.pre_depends = e.value("pre_depends", std::string());
        p.provides = e.value("provides", std::string());
        p.multi_arch = e.value("multi_arch", std::string());
        auto digest = crypto::Digest::from_hex(e.at("sha256").get<std::string>());
        if (!digest.ok()) {
          return lock_error(origin, "package '" + p.name + "': invalid sha256");
        }
        p.sha256 = *digest;
        list.push_back(std::move(p));
      }
    }
    const json archives = root.value("archives", json::object());
    if (!archives.is_object()) {
      return lock_error(origin, "'archives' must be an object of architectures");
    }
    for (const auto& [arch, entries] : archives.items()) {
      std::vector<LockedArchive>& list = lock.archives[arch];
      for (const json& e : entries) {
        LockedArchive a;
        a.url = e.at("url").get<std::string>();
        a.name = e.value("name", std::string());
        a.version = e.value("version", std::string());
        auto digest = crypto::Digest::from_hex(e.at("sha256").get<std::string>());
        if (!digest.ok()) {
          return lock_error(origin, "archive '" + a.url + "': invalid sha256");
        }
        a.sha256 = *digest;
        list.push_back(std::move(a));
      }
    }
    return lock;
  } catch (const json::exception& e) {
    return lock_error(origin, std::string("malformed lock file: ") + e.what());
  }
}

}  // namespace distill::debian
