#include "image/provenance.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "crypto/sha256.hpp"
#include "debian/apt_sources.hpp"
#include "debian/release.hpp"
#include "debian/release_fetch.hpp"
#include "image/local_ca.hpp"
#include "net/credentials.hpp"
#include "net/http_client.hpp"
#include "util/file_io.hpp"
#include "util/text.hpp"

namespace distill::image {

namespace {

using nlohmann::json;

std::string clean_url(const std::string& url) {
  std::string out = net::strip_credentials(url);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  return out;
}

ProvenanceSource source_record(const SpecSource& source) {
  ProvenanceSource out;
  out.url = clean_url(source.url);
  out.suites = source.suites;
  out.components = source.components;
  if (!source.keyring.empty()) {
    if (debian::is_inline_key(source.keyring)) {
      out.keyring_name = "inline";
      out.keyring_sha256 = crypto::sha256(source.keyring).hex();
    } else {
      std::filesystem::path path(source.keyring);
      out.keyring_name = path.filename().string();
      auto bytes = util::read_file(path);
      if (bytes.ok()) {
        out.keyring_sha256 = crypto::sha256(*bytes).hex();
      }
    }
  }
  return out;
}

// Leaves out empty values, so a record says only what the spec said.
void put(json& j, const char* key, const std::string& value) {
  if (!value.empty()) {
    j[key] = value;
  }
}
void put(json& j, const char* key, const std::vector<std::string>& value) {
  if (!value.empty()) {
    j[key] = value;
  }
}

json to_json_value(const ProvenanceStage& stage) {
  json j = json::object();
  put(j, "spec", stage.spec);
  put(j, "name", stage.name);
  put(j, "from", stage.from);
  put(j, "release", stage.release);
  if (!stage.sources.empty()) {
    json sources = json::array();
    for (const auto& s : stage.sources) {
      json one = json::object();
      one["url"] = s.url;
      put(one, "suites", s.suites);
      put(one, "components", s.components);
      if (!s.keyring_name.empty()) {
        one["keyring"] = {{"name", s.keyring_name}, {"sha256", s.keyring_sha256}};
      }
      sources.push_back(std::move(one));
    }
    j["sources"] = std::move(sources);
  }
  put(j, "packages", stage.packages);
  put(j, "exclude", stage.exclude);
  put(j, "trace", stage.trace);
  put(j, "traced", stage.traced);
  if (stage.users) {
    json users = json::array();
    for (const auto& u : *stage.users) {
      users.push_back(
          {{"name", u.name}, {"uid", u.uid}, {"gid", u.gid}, {"home", u.home}, {"shell", u.shell}});
    }
    j["users"] = std::move(users);
  }
  if (stage.groups) {
    json groups = json::array();
    for (const auto& g : *stage.groups) {
      groups.push_back({{"name", g.name}, {"gid", g.gid}, {"members", g.members}});
    }
    j["groups"] = std::move(groups);
  }
  if (stage.files) {
    j["files"] = {{"layer", stage.files->layer},
                  {"fingerprint", stage.files->fingerprint},
                  {"generated", stage.files->generated}};
  }
  if (!stage.archives.empty()) {
    json archives = json::array();
    for (const auto& a : stage.archives) {
      json one = json::object();
      put(one, "name", a.name);
      put(one, "version", a.version);
      json downloads = json::array();
      for (const auto& d : a.downloads) {
        json dl = {{"url", d.url}, {"sha256", d.sha256}};
        put(dl, "arch", d.arch);
        downloads.push_back(std::move(dl));
      }
      one["downloads"] = std::move(downloads);
      one["strip"] = a.strip;
      one["dst"] = a.dst;
      put(one, "include", a.include);
      put(one, "exclude", a.exclude);
      one["uid"] = a.uid;
      one["gid"] = a.gid;
      if (a.mode) {
        one["mode"] = *a.mode;
      }
      if (a.dir_mode) {
        one["dir_mode"] = *a.dir_mode;
      }
      archives.push_back(std::move(one));
    }
    j["archives"] = std::move(archives);
  }
  return j;
}

// Reading back: every field checked for its type, errors name the field.
class Reader {
 public:
  explicit Reader(std::string origin) : m_origin(std::move(origin)) {}

  Error fail(const std::string& what) const {
    return make_error(ErrorKind::InvalidInput, m_origin + ": provenance record: " + what);
  }

  Status string(const json& j, const char* key, std::string& out) const {
    auto it = j.find(key);
    if (it == j.end()) {
      return {};
    }
    if (!it->is_string()) {
      return fail(std::string(key) + " is not a string");
    }
    out = it->get<std::string>();
    return {};
  }

  Status strings(const json& j, const char* key, std::vector<std::string>& out) const {
    auto it = j.find(key);
    if (it == j.end()) {
      return {};
    }
    if (!it->is_array()) {
      return fail(std::string(key) + " is not a list");
    }
    for (const auto& v : *it) {
      if (!v.is_string()) {
        return fail(std::string(key) + " holds a value that is not a string");
      }
      out.push_back(v.get<std::string>());
    }
    return {};
  }

  template <typename Int>
  Status number(const json& j, const char* key, Int& out) const {
    auto it = j.find(key);
    if (it == j.end()) {
      return {};
    }
    if (!it->is_number_integer()) {
      return fail(std::string(key) + " is not an integer");
    }
    out = it->get<Int>();
    return {};
  }

  Status objects(const json& j, const char* key, const std::function<Status(const json&)>& fn) {
    auto it = j.find(key);
    if (it == j.end()) {
      return {};
    }
    if (!it->is_array()) {
      return fail(std::string(key) + " is not a list");
    }
    for (const auto& v : *it) {
      if (!v.is_object()) {
        return fail(std::string(key) + " holds a value that is not an object");
      }
      DISTILL_CHECK(fn(v));
    }
    return {};
  }

  Result<ProvenanceStage> stage(const json& j) {
    ProvenanceStage s;
    DISTILL_CHECK(string(j, "spec", s.spec));
    DISTILL_CHECK(string(j, "name", s.name));
    DISTILL_CHECK(string(j, "from", s.from));
    DISTILL_CHECK(string(j, "release", s.release));
    DISTILL_CHECK(objects(j, "sources", [&](const json& v) -> Status {
      ProvenanceSource src;
      DISTILL_CHECK(string(v, "url", src.url));
      DISTILL_CHECK(strings(v, "suites", src.suites));
      DISTILL_CHECK(strings(v, "components", src.components));
      if (auto k = v.find("keyring"); k != v.end()) {
        if (!k->is_object()) {
          return fail("a source's keyring is not an object");
        }
        DISTILL_CHECK(string(*k, "name", src.keyring_name));
        DISTILL_CHECK(string(*k, "sha256", src.keyring_sha256));
      }
      s.sources.push_back(std::move(src));
      return {};
    }));
    DISTILL_CHECK(strings(j, "packages", s.packages));
    DISTILL_CHECK(strings(j, "exclude", s.exclude));
    DISTILL_CHECK(strings(j, "trace", s.trace));
    DISTILL_CHECK(strings(j, "traced", s.traced));
    if (j.contains("users")) {
      s.users.emplace();
      DISTILL_CHECK(objects(j, "users", [&](const json& v) -> Status {
        SpecUser u;
        DISTILL_CHECK(string(v, "name", u.name));
        DISTILL_CHECK(number(v, "uid", u.uid));
        DISTILL_CHECK(number(v, "gid", u.gid));
        DISTILL_CHECK(string(v, "home", u.home));
        DISTILL_CHECK(string(v, "shell", u.shell));
        s.users->push_back(std::move(u));
        return {};
      }));
    }
    if (j.contains("groups")) {
      s.groups.emplace();
      DISTILL_CHECK(objects(j, "groups", [&](const json& v) -> Status {
        SpecGroup g;
        DISTILL_CHECK(string(v, "name", g.name));
        DISTILL_CHECK(number(v, "gid", g.gid));
        DISTILL_CHECK(strings(v, "members", g.members));
        s.groups->push_back(std::move(g));
        return {};
      }));
    }
    if (auto f = j.find("files"); f != j.end()) {
      if (!f->is_object()) {
        return fail("files is not an object");
      }
      ProvenanceFiles files;
      DISTILL_CHECK(number(*f, "layer", files.layer));
      DISTILL_CHECK(string(*f, "fingerprint", files.fingerprint));
      DISTILL_CHECK(strings(*f, "generated", files.generated));
      s.files = std::move(files);
    }
    DISTILL_CHECK(objects(j, "archives", [&](const json& v) -> Status {
      SpecArchive a;
      DISTILL_CHECK(string(v, "name", a.name));
      DISTILL_CHECK(string(v, "version", a.version));
      DISTILL_CHECK(objects(v, "downloads", [&](const json& d) -> Status {
        SpecArchiveDownload download;
        DISTILL_CHECK(string(d, "arch", download.arch));
        DISTILL_CHECK(string(d, "url", download.url));
        DISTILL_CHECK(string(d, "sha256", download.sha256));
        a.downloads.push_back(std::move(download));
        return {};
      }));
      DISTILL_CHECK(number(v, "strip", a.strip));
      DISTILL_CHECK(string(v, "dst", a.dst));
      DISTILL_CHECK(strings(v, "include", a.include));
      DISTILL_CHECK(strings(v, "exclude", a.exclude));
      DISTILL_CHECK(number(v, "uid", a.uid));
      DISTILL_CHECK(number(v, "gid", a.gid));
      for (const auto& [key, field] :
           {std::pair{"mode", &a.mode}, std::pair{"dir_mode", &a.dir_mode}}) {
        if (v.contains(key)) {
          uint32_t bits = 0;
          DISTILL_CHECK(number(v, key, bits));
          *field = bits;
        }
      }
      s.archives.push_back(std::move(a));
      return {};
    }));
    return s;
  }

 private:
  std::string m_origin;
};

}  // namespace

std::string to_json(const Provenance& p) {
  json j = json::object();
  j["version"] = p.version;
  put(j, "arch", p.arch);
  put(j, "variant", p.variant);
  j["source_date_epoch"] = p.source_date_epoch;
  put(j, "compression", p.compression);
  if (p.image_base) {
    j["image_base"] = true;
  }
  put(j, "spec_digest", p.spec_digest);
  json stages = json::array();
  for (const auto& s : p.stages) {
    stages.push_back(to_json_value(s));
  }
  j["stages"] = std::move(stages);
  json sources = json::array();
  for (const auto& s : p.sources) {
    json one = {{"url", s.url}, {"suite", s.suite}};
    put(one, "date", s.date);
    sources.push_back(std::move(one));
  }
  json packages = json::array();
  for (const auto& pkg : p.packages) {
    packages.push_back(
        {{"name", pkg.name}, {"version", pkg.version}, {"arch", pkg.arch}, {"sha256", pkg.sha256}});
  }
  j["resolution"] = {{"sources", std::move(sources)}, {"packages", std::move(packages)}};
  return j.dump();
}

Result<Provenance> parse_provenance(std::string_view text, const std::string& origin) {
  Reader r(origin);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return r.fail("not a JSON object");
  }
  Provenance p;
  p.version = 0;
  DISTILL_CHECK(r.number(j, "version", p.version));
  if (p.version != k_provenance_version) {
    return r.fail("version " + std::to_string(p.version) + " (this distill reads version " +
                  std::to_string(k_provenance_version) + ")");
  }
  DISTILL_CHECK(r.string(j, "arch", p.arch));
  DISTILL_CHECK(r.string(j, "variant", p.variant));
  DISTILL_CHECK(r.number(j, "source_date_epoch", p.source_date_epoch));
  DISTILL_CHECK(r.string(j, "compression", p.compression));
  if (auto b = j.find("image_base"); b != j.end()) {
    if (!b->is_boolean()) {
      return r.fail("image_base is not a boolean");
    }
    p.image_base = b->get<bool>();
  }
  DISTILL_CHECK(r.string(j, "spec_digest", p.spec_digest));
  DISTILL_CHECK(r.objects(j, "stages", [&](const json& v) -> Status {
    DISTILL_TRY(auto stage, r.stage(v));
    p.stages.push_back(std::move(stage));
    return {};
  }));
  if (p.stages.empty()) {
    return r.fail("no stages");
  }
  if (auto res = j.find("resolution"); res != j.end() && res->is_object()) {
    DISTILL_CHECK(r.objects(*res, "sources", [&](const json& v) -> Status {
      ResolvedSource s;
      DISTILL_CHECK(r.string(v, "url", s.url));
      DISTILL_CHECK(r.string(v, "suite", s.suite));
      DISTILL_CHECK(r.string(v, "date", s.date));
      p.sources.push_back(std::move(s));
      return {};
    }));
    DISTILL_CHECK(r.objects(*res, "packages", [&](const json& v) -> Status {
      ResolvedPackage pkg;
      DISTILL_CHECK(r.string(v, "name", pkg.name));
      DISTILL_CHECK(r.string(v, "version", pkg.version));
      DISTILL_CHECK(r.string(v, "arch", pkg.arch));
      DISTILL_CHECK(r.string(v, "sha256", pkg.sha256));
      p.packages.push_back(std::move(pkg));
      return {};
    }));
  }
  return p;
}

std::vector<std::string> generated_paths(const LayerNode& node) {
  std::set<std::string> files;
  bool has_ca = has_package(node.packages, "ca-certificates");
  bool java = has_java_runtime(node.packages);
  if (node.system_files) {
    if (has_package(node.packages, "libc6")) {
      files.insert("etc/ld.so.cache");
    }
    if (java && has_ca) {
      files.insert(std::string(k_java_truststore));
    }
  }
  if (!node.certificates.empty() && has_ca) {
    files.insert(std::string(k_ca_bundle));
    if (java) {
      files.insert(std::string(k_java_truststore));
    }
  }
  std::set<std::string> own;
  for (const auto& e : node.entries) {
    own.insert(e.entry.path);
  }
  std::set<std::string> out;
  for (const auto& f : files) {
    if (own.count(f) != 0) {
      continue;  // the spec's own file wins at that path
    }
    out.insert(f);
    for (size_t slash = f.rfind('/'); slash != std::string::npos && slash > 0;
         slash = f.rfind('/', slash - 1)) {
      std::string parent = f.substr(0, slash);
      if (own.count(parent) == 0) {
        out.insert(parent);
      }
    }
  }
  return {out.begin(), out.end()};
}

Result<ProvenanceStage> stage_provenance(const Spec& spec,
                                         const std::vector<InstalledPackage>& added,
                                         const LayerNode* top, size_t top_layer) {
  ProvenanceStage s;
  s.spec = spec.record_name();
  s.name = spec.name;
  s.from = spec.from;
  s.release = spec.release;
  for (const auto& source : spec.sources) {
    s.sources.push_back(source_record(source));
  }
  s.packages = spec.packages;
  s.exclude = spec.exclude;
  s.trace = spec.trace;
  if (!spec.trace.empty()) {
    for (const auto& p : added) {
      s.traced.push_back(p.name);
    }
    std::sort(s.traced.begin(), s.traced.end());
  }
  s.users = spec.users;
  s.groups = spec.groups;
  s.archives = spec.archives;
  for (auto& archive : s.archives) {
    archive.line = 0;  // where it was written is no input of the image
    for (auto& download : archive.downloads) {
      download.line = 0;
    }
  }
  if (top != nullptr && !top->entries.empty()) {
    ProvenanceFiles files;
    files.layer = top_layer;
    files.fingerprint = top->entries_fingerprint;
    files.generated = generated_paths(*top);
    s.files = std::move(files);
  }
  return s;
}

void record_resolution(Provenance& provenance, const std::vector<debian::AptSource>& sources,
                       const std::map<std::string, std::string>& dates,
                       const std::vector<InstalledPackage>& packages) {
  for (const auto& source : sources) {
    for (const auto& suite : source.suites) {
      ResolvedSource r;
      r.url = clean_url(source.url);
      r.suite = suite;
      auto it = dates.find(debian::suite_base_url(source, suite));
      if (it != dates.end()) {
        r.date = it->second;
      }
      provenance.sources.push_back(std::move(r));
    }
  }
  for (const auto& p : packages) {
    provenance.packages.push_back({p.name, p.version, p.arch, p.sha256.hex()});
  }
  std::sort(provenance.packages.begin(), provenance.packages.end(),
            [](const ResolvedPackage& a, const ResolvedPackage& b) {
              return a.name != b.name ? a.name < b.name : a.arch < b.arch;
            });
}

std::string package_list(const std::vector<InstalledPackage>& packages) {
  std::vector<std::string> items;
  items.reserve(packages.size());
  for (const auto& p : packages) {
    items.push_back(p.name + "=" + p.version + "/" + p.arch);
  }
  return util::join(items, ",");
}

std::map<std::string, std::string> layer_annotations(const LayerNode& node) {
  std::map<std::string, std::string> out;
  const std::string kind(k_layer_kind_annotation);
  switch (node.kind) {
    case LayerNode::Kind::Packages:
      out[kind] = "packages";
      out[std::string(k_layer_packages_annotation)] = package_list(node.packages);
      break;
    case LayerNode::Kind::Busybox:
      out[kind] = "busybox";
      out[std::string(k_layer_packages_annotation)] = package_list(node.packages);
      break;
    case LayerNode::Kind::Entries:
      out[kind] = "generated";
      break;
    case LayerNode::Kind::Top: {
      out[kind] = node.entries.empty() ? "generated" : "files";
      // The files only: the parent directories they needed are implied.
      const auto paths = generated_paths(node);
      std::vector<std::string> generated;
      for (const auto& path : paths) {
        bool is_parent = false;
        for (const auto& other : paths) {
          is_parent = is_parent || other.starts_with(path + "/");
        }
        if (!is_parent) {
          generated.push_back(path);
        }
      }
      if (!generated.empty()) {
        out[std::string(k_layer_generated_annotation)] = util::join(generated, ",");
      }
      break;
    }
    case LayerNode::Kind::Archive:
      // The archive as the lock records it: where from and what it hashed to.
      out[kind] = "archive";
      if (node.archive) {
        std::string named = node.archive->name.empty()
                                ? std::string()
                                : node.archive->name + "@" + node.archive->version + " ";
        out[std::string(k_layer_archive_annotation)] =
            named + node.archive->url + " sha256:" + node.archive->sha256.hex();
      }
      break;
    case LayerNode::Kind::Base:
      // A base image's layer keeps what its descriptor says; execute() sets
      // the kind to "base" on top of it.
      out[kind] = "base";
      break;
  }
  return out;
}

}  // namespace distill::image
