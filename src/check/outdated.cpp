// `distill outdated`; see outdated.hpp.
#include "check/outdated.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "check/image_view.hpp"
#include "check/packages.hpp"
#include "debian/apt_sources.hpp"
#include "debian/architecture.hpp"
#include "debian/changelog.hpp"
#include "debian/lock_file.hpp"
#include "debian/package_changelog.hpp"
#include "debian/releases.hpp"
#include "debian/repository.hpp"
#include "debian/version.hpp"
#include "image/build.hpp"
#include "image/flavors.hpp"
#include "image/from_chain.hpp"
#include "image/layer_cache.hpp"
#include "image/release_snapshot.hpp"
#include "util/file_io.hpp"
#include "util/text.hpp"

namespace distill::check {

namespace {

struct Installed {
  std::string name, version;
};

// What is installed (by the arch of the index to look it up in) and the
// sources to compare it with.
struct Subject {
  std::string kind;
  std::string sources_from;
  std::vector<debian::AptSource> sources;
  std::map<std::string, std::vector<Installed>> packages;
};

Error usage(const std::string& message) {
  return make_error(ErrorKind::InvalidInput, "usage: " + message);
}

Result<std::vector<debian::AptSource>> read_sources_file(const std::filesystem::path& file) {
  DISTILL_TRY(auto text, util::read_file(file));
  const bool deb822 = file.extension() == ".sources" ||
                      (file.extension() != ".list" && text.find("URIs:") != std::string::npos);
  DISTILL_TRY(auto sources, deb822 ? debian::parse_sources_deb822(text, file.string())
                                   : debian::parse_sources_list(text, file.string()));
  if (sources.empty()) {
    return make_error(ErrorKind::InvalidInput, file.string() + ": no `deb` source in it");
  }
  return sources;
}

Result<Subject> image_subject(const OutdatedRequest& request) {
  Subject subject;
  subject.kind = "image";
  DISTILL_TRY(auto opened, open_image(request.subject, request.arch, request.image_source));
  DISTILL_TRY(auto view, ImageView::load(*opened, [](std::string_view tar_path) {
                return is_package_record(tar_path, false);
              }));
  DISTILL_TRY(auto records, installed_packages(view));
  if (records.empty()) {
    return make_error(ErrorKind::NotFound,
                      request.subject +
                          ": no dpkg status in the image (/var/lib/dpkg/status.d/ or "
                          "/var/lib/dpkg/status), so no package to compare");
  }
  std::string arch = request.arch;
  for (const auto& r : records) {
    if (arch.empty() && r.arch != "all") {
      arch = r.arch;
    }
  }
  if (arch.empty()) {
    arch = debian::host_architecture();
  }
  auto& packages = subject.packages[arch];
  for (const auto& r : records) {
    packages.push_back({r.name, r.version});
  }
  if (!request.sources_file.empty()) {
    DISTILL_TRY(subject.sources, read_sources_file(request.sources_file));
    subject.sources_from = request.sources_file.string() + " (--sources)";
    return subject;
  }
  std::string codename = read_os_release(view).version_codename;
  if (codename.empty()) {
    return make_error(ErrorKind::NotFound,
                      request.subject +
                          ": no VERSION_CODENAME in the image's os-release, so its release is "
                          "unknown; give the sources with --sources FILE");
  }
  auto host = debian::read_host_sources(request.apt_root, codename);
  if (!host.ok()) {
    return host.error().context(request.subject + ": the host's apt sources for " + codename);
  }
  if (host->empty()) {
    return make_error(ErrorKind::NotFound,
                      request.subject + ": the host's apt sources (" +
                          (request.apt_root / "etc/apt").string() + ") have none for '" + codename +
                          "', the image's release; give them with --sources FILE");
  }
  subject.sources = std::move(host).value();
  subject.sources_from = "the host's apt sources for " + codename + " (the image's release)";
  return subject;
}

Status add_locked(Subject& subject, const debian::LockFile& lock, const OutdatedRequest& request,
                  const std::string& origin) {
  for (const auto& [arch, locked] : lock.packages) {
    if (!request.arch.empty() && arch != request.arch) {
      continue;
    }
    auto& packages = subject.packages[arch];
    for (const auto& p : locked) {
      packages.push_back({p.name, p.version});
    }
  }
  if (subject.packages.empty()) {
    return make_error(
        ErrorKind::NotFound,
        origin + ": no packages" + (request.arch.empty() ? std::string() : " for " + request.arch));
  }
  if (!request.sources_file.empty()) {
    DISTILL_TRY(subject.sources, read_sources_file(request.sources_file));
    subject.sources_from = request.sources_file.string() + " (--sources)";
  } else {
    subject.sources = lock.sources;
  }
  if (subject.sources.empty()) {
    return make_error(ErrorKind::NotFound,
                      origin + ": no sources recorded; give them with --sources FILE");
  }
  return {};
}

Result<Subject> lock_subject(const OutdatedRequest& request) {
  Subject subject;
  subject.kind = "lock";
  DISTILL_TRY(auto text, util::read_file(request.subject));
  DISTILL_TRY(auto lock, debian::parse_lock(text, request.subject));
  subject.sources_from = "the lock file";
  DISTILL_CHECK(add_locked(subject, lock, request, request.subject));
  return subject;
}

Result<Subject> spec_subject(const OutdatedRequest& request, image::BuildEnv& env) {
  std::error_code ec;
  if (!std::filesystem::exists(request.subject, ec) && !image::is_flavor_name(request.subject)) {
    return make_error(ErrorKind::NotFound,
                      request.subject +
                          ": not an image reference (oci:, oci-archive:, docker-archive:, "
                          "docker://), a file (lock or spec) or a built-in flavor");
  }
  if (request.lock_file.empty()) {
    return usage(request.subject +
                 " is a spec, which pins nothing by itself (resolved now, it is up to date): "
                 "give its lock with --lock FILE, or check the image built from it");
  }
  Subject subject;
  subject.kind = "spec";
  image::BuildRequest build;
  build.specs = {request.subject};
  build.lock_file = request.lock_file;
  if (!request.arch.empty()) {
    build.archs = {request.arch};
  }
  build.apt_root = request.apt_root;
  build.release = request.release;
  build.default_release = debian::default_release(request.apt_root);  // as build takes it
  build.release_max_age = request.release_max_age;
  build.allow_release_rollback = request.allow_release_rollback;
  build.allow_expired_release = request.allow_expired_release;
  DISTILL_TRY(auto lock, image::lock_image(build, env));
  subject.sources_from = "the spec's sources";
  DISTILL_CHECK(add_locked(subject, lock, request, request.subject));
  return subject;
}

// A lock file is JSON; a spec is YAML (which never starts with '{' here).
bool looks_like_lock(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return false;
  }
  auto text = util::read_file(path);
  if (!text.ok()) {
    return false;
  }
  size_t first = text->find_first_not_of(" \t\r\n");
  return first != std::string::npos && (*text)[first] == '{';
}

std::string describe(const debian::AptSource& s) {
  return s.url + " " + util::join(s.suites, " ") + " (" +
         util::join(s.components.empty() ? std::vector<std::string>{"main"} : s.components, " ") +
         ")";
}

// The newest candidate of each name, cached under the Release files' bytes.
class Candidates {
 public:
  Candidates(const OutdatedRequest& request, image::BuildEnv& env)
      : m_request(request),
        m_env(env),
        m_snapshot(env, request.release_max_age, request.allow_release_rollback) {}

  Result<std::map<std::string, debian::PackageRecord>> find(
      const std::vector<debian::AptSource>& sources, const std::string& arch,
      const std::vector<std::string>& names) {
    DISTILL_TRY(auto fingerprint, m_snapshot.fingerprint(sources));
    image::LayerKey key("outdated-candidates");
    key.add("releases", fingerprint).add("arch", arch);
    for (const auto& s : sources) {
      key.add("source", describe(s) + " " + s.keyring + " " + util::join(s.archs, ","));
    }
    for (const auto& name : names) {
      key.add("name", name);
    }
    auto path = m_env.cache.dir() / "outdated" / (key.hex() + ".json");
    if (auto cached = read_cached(path); cached.ok()) {
      return std::move(cached).value();
    }
    m_env.progress.step("fetching package indices for " + arch);
    debian::RepositoryOptions options;
    options.allow_expired = m_request.allow_expired_release;
    options.allow_release_rollback = m_request.allow_release_rollback;
    options.now = static_cast<std::time_t>(m_env.clock.now());
    DISTILL_TRY(options.fetched_inrelease, m_snapshot.bodies());
    DISTILL_TRY(auto loaded,
                debian::load_repositories(m_env.http, m_env.cache, sources, arch, options));
    std::map<std::string, debian::PackageRecord> out;
    for (const auto& name : names) {
      if (const auto* record = debian::newest_candidate(loaded.index, name)) {
        out.emplace(name, *record);
      }
    }
    DISTILL_CHECK(loaded.index.status());
    write_cached(path, out);
    return out;
  }

 private:
  static Result<std::map<std::string, debian::PackageRecord>> read_cached(
      const std::filesystem::path& path) {
    DISTILL_TRY(auto text, util::read_file(path));
    std::map<std::string, debian::PackageRecord> out;
    try {
      auto json = nlohmann::json::parse(text);
      for (const auto& c : json.at("candidates")) {
        debian::PackageRecord r;
        r.name = c.at("name").get<std::string>();
        r.version = c.at("version").get<std::string>();
        r.arch = c.at("arch").get<std::string>();
        r.suite = c.at("suite").get<std::string>();
        r.component = c.at("component").get<std::string>();
        r.filename = c.at("filename").get<std::string>();
        r.repo_url = c.at("repo_url").get<std::string>();
        r.size = c.at("size").get<uint64_t>();
        DISTILL_TRY(r.sha256, crypto::Digest::from_hex(c.at("sha256").get<std::string>()));
        out.emplace(r.name, std::move(r));
      }
    } catch (const nlohmann::json::exception& e) {
      return make_error(ErrorKind::Corrupt, path.string() + ": " + e.what());
    }
    return out;
  }

  // Best effort: a cache entry not written only costs time.
  static void write_cached(const std::filesystem::path& path,
                           const std::map<std::string, debian::PackageRecord>& candidates) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [name, r] : candidates) {
      list.push_back({{"name", r.name},
                      {"version", r.version},
                      {"arch", r.arch},
                      {"suite", r.suite},
                      {"component", r.component},
                      {"filename", r.filename},
                      {"repo_url", r.repo_url},
                      {"size", r.size},
                      {"sha256", r.sha256.hex()}});
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    (void)util::write_file_atomic(path, nlohmann::json{{"candidates", list}}.dump());
  }

  const OutdatedRequest& m_request;
  image::BuildEnv& m_env;
  image::ReleaseSnapshot m_snapshot;
};

// The changelog entries after `installed` up to `candidate`, their highest
// urgency and their CVEs.
void add_changes(OutdatedPackage& package, const debian::PackageChangelog& changelog) {
  if (!changelog.found) {
    package.changelog_note = changelog.note;
    return;
  }
  int urgency = -1;
  for (const auto& entry : debian::parse_changelog(changelog.text)) {
    if (debian::compare_versions(entry.version, package.installed) <= 0 ||
        debian::compare_versions(entry.version, package.candidate) > 0) {
      continue;
    }
    ChangelogChange change;
    change.version = entry.version;
    change.distributions = util::join(entry.distributions, " ");
    change.urgency = entry.urgency;
    change.date = entry.date;
    change.cves = debian::cve_ids(entry);
    for (const auto& id : change.cves) {
      if (std::find(package.cves.begin(), package.cves.end(), id) == package.cves.end()) {
        package.cves.push_back(id);
      }
    }
    if (debian::urgency_rank(entry.urgency) > urgency) {
      urgency = debian::urgency_rank(entry.urgency);
      package.urgency = entry.urgency;
    }
    package.changes.push_back(std::move(change));
  }
  if (package.changes.empty()) {
    package.changelog_note = "no changelog entry between the two versions";
  }
}

}  // namespace

Result<OutdatedReport> find_outdated(const OutdatedRequest& request, image::BuildEnv& env) {
  Subject subject;
  bool image = image::is_image_reference(request.subject);
  bool lock = !image && looks_like_lock(request.subject);  // reads the file
  if (!request.release.empty() && (image || lock)) {
    return usage("--release goes with a spec or flavor; " + request.subject +
                 " names its own release");
  }
  if (image) {
    if (!request.lock_file.empty()) {
      return usage("--lock goes with a spec, not an image");
    }
    DISTILL_TRY(subject, image_subject(request));
  } else if (lock) {
    if (!request.lock_file.empty()) {
      return usage(request.subject + " is a lock file already; --lock goes with a spec");
    }
    DISTILL_TRY(subject, lock_subject(request));
  } else {
    DISTILL_TRY(subject, spec_subject(request, env));
  }

  OutdatedReport report;
  report.subject = request.subject;
  report.subject_kind = subject.kind;
  report.sources_from = subject.sources_from;
  for (const auto& s : subject.sources) {
    report.sources.push_back(describe(s));
  }
  Candidates candidates(request, env);
  std::vector<debian::PackageRecord> chosen;  // the candidates of outdated packages
  for (auto& [arch, installed] : subject.packages) {
    report.archs.push_back(arch);
    std::vector<std::string> names;
    for (const auto& p : installed) {
      names.push_back(p.name);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    DISTILL_TRY(auto newest, candidates.find(subject.sources, arch, names));
    for (const auto& p : installed) {
      ++report.checked;
      auto it = newest.find(p.name);
      if (it == newest.end()) {
        report.not_in_sources.push_back(p.name + " (" + arch + ")");
        continue;
      }
      const debian::PackageRecord& c = it->second;
      if (!debian::is_newer(c.version, p.version)) {
        continue;
      }
      OutdatedPackage out;
      out.name = p.name;
      out.arch = arch;
      out.installed = p.version;
      out.candidate = c.version;
      out.suite = c.suite;
      out.kind = debian::suite_kind(c.suite);
      report.outdated.push_back(std::move(out));
      chosen.push_back(c);
    }
  }
  std::vector<const debian::PackageRecord*> records;
  for (const auto& c : chosen) {
    records.push_back(&c);
  }
  if (!records.empty()) {
    env.progress.step("reading the changelogs of " + std::to_string(records.size()) + " package" +
                      (records.size() == 1 ? "" : "s"));
  }
  DISTILL_TRY(auto changelogs, debian::package_changelogs(env.http, env.cache, records, 8));
  for (size_t i = 0; i < changelogs.size(); ++i) {
    add_changes(report.outdated[i], changelogs[i]);
  }
  std::stable_sort(report.outdated.begin(), report.outdated.end(),
                   [](const OutdatedPackage& a, const OutdatedPackage& b) {
                     return std::tie(a.name, a.arch) < std::tie(b.name, b.arch);
                   });
  return report;
}

nlohmann::json to_json(const OutdatedReport& report) {
  nlohmann::json packages = nlohmann::json::array();
  for (const auto& p : report.outdated) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : p.changes) {
      changes.push_back({{"version", c.version},
                         {"distributions", c.distributions},
                         {"urgency", c.urgency},
                         {"date", c.date},
                         {"cves", c.cves}});
    }
    nlohmann::json entry{
        {"name", p.name},           {"arch", p.arch},
        {"installed", p.installed}, {"candidate", p.candidate},
        {"suite", p.suite},         {"kind", std::string(debian::to_string(p.kind))},
        {"urgency", p.urgency},     {"cves", p.cves},
        {"changes", changes}};
    if (!p.changelog_note.empty()) {
      entry["changelog_note"] = p.changelog_note;
    }
    packages.push_back(std::move(entry));
  }
  return {{"subject", report.subject},
          {"subject_kind", report.subject_kind},
          {"sources_from", report.sources_from},
          {"sources", report.sources},
          {"archs", report.archs},
          {"checked", report.checked},
          {"outdated", packages},
          {"not_in_sources", report.not_in_sources}};
}

}  // namespace distill::check
