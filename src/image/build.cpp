#include "image/build.hpp"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <set>

#include "archive/deb_reader.hpp"
#include "crypto/sha256.hpp"
#include "debian/apt_sources.hpp"
#include "debian/architecture.hpp"
#include "debian/contents_index.hpp"
#include "debian/package_index.hpp"
#include "debian/repository.hpp"
#include "debian/resolver.hpp"
#include "elf/elf_reader.hpp"
#include "image/background_fetch.hpp"
#include "image/busybox_layer.hpp"
#include "image/files_layer.hpp"
#include "image/flavors.hpp"
#include "image/generated_files.hpp"
#include "image/java_truststore.hpp"
#include "image/layer_cache.hpp"
#include "image/layer_plan.hpp"
#include "image/layer_writer.hpp"
#include "image/library_catalog.hpp"
#include "image/local_ca.hpp"
#include "image/outputs.hpp"
#include "image/spec.hpp"
#include "net/content_cache.hpp"
#include "net/http_client.hpp"
#include "oci/archive_writer.hpp"
#include "oci/image_reader.hpp"
#include "oci/image_ref.hpp"
#include "oci/layout_writer.hpp"
#include "util/file_io.hpp"
#include "util/thread_pool.hpp"

namespace distill::image {

namespace {

constexpr std::string_view k_default_release = "bookworm";

// One spec of the `from:` chain, built for one architecture.
struct Stage {
  std::string release;
  std::vector<debian::AptSource> sources;
  bool sources_explicit = false;
  std::vector<std::string> exclude;  // accumulated along the chain
  std::vector<oci::LayerBlob> layers;
  std::vector<oci::HistoryEntry> history;
  ConfigState config;
  std::vector<InstalledPackage> packages;  // everything installed, whole chain
  Accounts accounts = default_accounts();
  bool has_packages = false;  // any stage installed Debian packages
  // Private CAs the chain's specs added (local_ca.hpp).
  std::vector<LocalCertificate> local_certificates;
};

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : sep) + items[i];
  }
  return out;
}

std::vector<debian::AptSource> to_apt_sources(const Spec& spec) {
  std::vector<debian::AptSource> out;
  for (const auto& s : spec.sources) {
    debian::AptSource a;
    a.url = s.url;
    while (!a.url.empty() && a.url.back() == '/') {
      a.url.pop_back();
    }
    a.suites = s.suites;
    a.components = s.components.empty() ? std::vector<std::string>{"main"} : s.components;
    if (!s.keyring.empty()) {
      a.keyring = s.keyring;
    }
    a.origin = spec.display_name + ":" + std::to_string(s.line);
    out.push_back(std::move(a));
  }
  return out;
}

std::string sources_key(const std::vector<debian::AptSource>& sources, const std::string& arch) {
  std::string key = arch;
  for (const auto& s : sources) {
    key +=
        "|" + s.url + " " + join(s.suites, ",") + " " + join(s.components, ",") + " " + s.keyring;
  }
  return key;
}

// A package record or a locked package (same field names) as installed.
template <typename Package>
InstalledPackage to_installed(const Package& package) {
  InstalledPackage p;
  p.name = package.name;
  p.version = package.version;
  p.arch = package.arch;
  p.sha256 = package.sha256;
  p.size = package.size;
  p.filename = package.filename;
  p.repo_url = package.repo_url;
  return p;
}

class Builder {
 public:
  Builder(const BuildRequest& request, util::Progress& progress, net::ContentCache cache,
          std::unique_ptr<net::HttpClient> http)
      : m_request(request),
        m_progress(progress),
        m_cache(std::move(cache)),
        m_layers(m_cache.dir()),
        m_http(std::move(http)),
        m_jobs(request.jobs == 0 ? util::default_jobs() : request.jobs) {}

  Status load_lock() {
    if (m_request.lock_file.empty()) {
      return {};
    }
    DISTILL_TRY(auto text, util::read_file(m_request.lock_file));
    DISTILL_TRY(auto lock, debian::parse_lock(text, m_request.lock_file.string()));
    m_lock = std::move(lock);
    return {};
  }

  Result<Spec> load_top_spec() {
    // A spec file wins over a flavor of the same name; a directory does not.
    std::error_code ec;
    if (std::filesystem::is_regular_file(m_request.spec, ec)) {
      return load_spec(m_request.spec);
    }
    if (find_flavor(m_request.spec) != nullptr) {
      return load_flavor(m_request.spec);
    }
    return make_error(ErrorKind::NotFound, m_request.spec +
                                               ": no such spec file or built-in flavor "
                                               "(see `distill flavors`)");
  }

  // Loads the base named by `from:`: a flavor, a spec file or an image.
  Result<Stage> build_base(const Spec& spec, const std::string& arch, int depth) {
    if (depth > 16) {
      return make_error(ErrorKind::InvalidInput,
                        spec.where("from") + ": `from:` chain too deep (a cycle?)");
    }
    if (spec.from.empty()) {
      return Stage{};
    }
    if (find_flavor(spec.from) != nullptr) {
      DISTILL_TRY(auto base, load_flavor(spec.from));
      return build_stage(base, arch, depth + 1);
    }
    std::filesystem::path candidate = spec.from;
    if (candidate.is_relative() && !spec.file.empty()) {
      candidate = spec.file.parent_path() / candidate;
    }
    bool looks_like_ref =
        spec.from.rfind("oci:", 0) == 0 || spec.from.rfind("oci-archive:", 0) == 0 ||
        spec.from.rfind("docker-archive:", 0) == 0 || spec.from.rfind("docker://", 0) == 0;
    if (!looks_like_ref) {
      if (!std::filesystem::exists(candidate)) {
        return make_error(ErrorKind::NotFound,
                          spec.where("from") + ": '" + spec.from +
                              "' is not a flavor, a spec file or an image reference");
      }
      DISTILL_TRY(auto base, load_spec(candidate));
      return build_stage(base, arch, depth + 1);
    }
    return load_image_base(spec, arch);
  }

  // An image as a base: its layers are reused byte for byte.
  Result<Stage> load_image_base(const Spec& spec, const std::string& arch) {
    DISTILL_TRY(auto ref, oci::ImageRef::parse(spec.from));
    if (ref.transport == oci::ImageRef::Transport::Registry) {
      return make_error(
          ErrorKind::Unsupported,
          spec.where("from") + ": pulling a base image from a registry is not supported yet");
    }
    DISTILL_TRY(auto loaded, oci::load_image(ref));
    auto image = std::make_shared<oci::LoadedImage>(std::move(loaded));
    m_keepalive.push_back(image);
    oci::Platform want = oci::platform_for_debian_arch(arch);
    const oci::LoadedManifest* chosen = nullptr;
    for (const auto& m : image->manifests) {
      if (m.platform.architecture == want.architecture || image->manifests.size() == 1) {
        chosen = &m;
        if (m.platform.architecture == want.architecture) {
          break;
        }
      }
    }
    if (chosen == nullptr) {
      return make_error(ErrorKind::NotFound,
                        spec.where("from") + ": " + spec.from + " has no " + arch + " image");
    }
    Stage stage;
    stage.config.config = chosen->config;
    stage.history = chosen->config.history;
    for (size_t i = 0; i < chosen->manifest.layers.size(); ++i) {
      oci::LayerBlob blob;
      blob.descriptor = chosen->manifest.layers[i];
      blob.file = chosen->layer_files.at(i);
      if (i < chosen->config.diff_ids.size()) {
        blob.diff_id = chosen->config.diff_ids[i];
      }
      stage.layers.push_back(std::move(blob));
    }
    if (stage.history.empty()) {
      for (size_t i = 0; i < stage.layers.size(); ++i) {
        stage.history.push_back({oci::format_rfc3339(m_request.source_date_epoch),
                                 "base image " + spec.from, "", false});
      }
    }
    return stage;
  }

  Result<const debian::PackageIndex*> index_for(const std::vector<debian::AptSource>& sources,
                                                const std::string& arch) {
    std::string key = sources_key(sources, arch);
    auto it = m_indices.find(key);
    if (it != m_indices.end()) {
      return &it->second->index;
    }
    auto loaded = std::make_unique<debian::LoadedIndex>();
    if (m_lock) {
      auto locked = m_lock->packages.find(arch);
      if (locked == m_lock->packages.end()) {
        return make_error(ErrorKind::InvalidInput,
                          m_request.lock_file.string() + ": the lock has no packages for " + arch);
      }
      DISTILL_TRY(auto records,
                  debian::records_from_lock(locked->second, m_request.lock_file.string()));
      loaded->index.add(std::move(records));
    } else {
      m_progress.step("fetching package indices for " + arch);
      debian::RepositoryOptions options;
      options.allow_expired = m_request.allow_expired_release;
      options.now = std::time(nullptr);
      options.fetched_inrelease = &m_fetched_inrelease;
      DISTILL_TRY(auto fetched,
                  debian::load_repositories(*m_http, m_cache, sources, arch, options));
      *loaded = std::move(fetched);
    }
    auto* raw = loaded.get();
    m_indices.emplace(key, std::move(loaded));
    return &raw->index;
  }

  Result<std::vector<debian::AptSource>> sources_for(const Spec& spec, const Stage& base,
                                                     const std::string& release) {
    if (!spec.sources.empty()) {
      return to_apt_sources(spec);
    }
    if (base.sources_explicit || !base.sources.empty()) {
      return base.sources;
    }
    auto host = debian::read_host_sources(m_request.apt_root, release);
    if (!host.ok()) {
      return host.error().context(spec.display_name + ": no `sources:` and the host's apt sources");
    }
    if (host->empty()) {
      return make_error(ErrorKind::NotFound,
                        spec.display_name + ": no `sources:` given and the host's apt sources (" +
                            (m_request.apt_root / "etc/apt").string() + ") have none for '" +
                            release + "'");
    }
    return std::move(host).value();
  }

  // The signed Release files of the sources, fetched as they are now. They pin
  // every Packages index by hash, so identical bytes mean identical indices: a
  // resolution made against them is still valid (and was verified then).
  Result<std::string> release_fingerprint(const std::vector<debian::AptSource>& sources) {
    std::vector<std::string> urls;
    for (const auto& source : sources) {
      for (const auto& suite : source.suites) {
        urls.push_back(net::url_join(source.url, "dists/" + suite + "/InRelease"));
      }
    }
    // Once per build: every stage and both passes key their resolutions on
    // the same Release files, so they are fetched (or read) only once.
    std::string memo_key = join(urls, " ");
    if (auto known = m_fingerprints.find(memo_key); known != m_fingerprints.end()) {
      return known->second;
    }
    // A copy fetched less than release_max_age ago stands for the mirror's
    // current one: mirrors change a few times a day, and an immediate rebuild
    // then needs no network round trip at all.
    std::vector<std::optional<std::string>> bodies(urls.size());
    std::vector<size_t> stale;
    for (size_t i = 0; i < urls.size(); ++i) {
      if (auto kept = fresh_release(urls[i])) {
        bodies[i] = std::move(kept);
      } else {
        stale.push_back(i);
      }
    }
    util::parallel_for(stale.size(), static_cast<unsigned>(stale.size()), [&](size_t k) {
      size_t i = stale[k];
      net::HttpRequest request;
      request.url = urls[i];
      auto response = m_http->send(request);
      if (response.ok() && response->status == 200) {
        bodies[i] = std::move(response->body);
        keep_release(urls[i], *bodies[i]);
      }
    });
    for (size_t i : stale) {
      if (bodies[i]) {  // the index loader verifies these instead of asking again
        m_fetched_inrelease[urls[i]] = *bodies[i];
      }
    }
    LayerKey key("releases");
    for (size_t i = 0; i < urls.size(); ++i) {
      if (!bodies[i]) {
        return make_error(ErrorKind::NotFound, urls[i] + ": not available");
      }
      key.add(urls[i], *bodies[i]);
    }
    std::string fingerprint = key.hex();
    m_fingerprints[memo_key] = fingerprint;
    return fingerprint;
  }

  // The InRelease copies release_fingerprint keeps, one file per URL.
  std::filesystem::path release_copy(const std::string& url) const {
    return m_cache.dir() / "releases" / (crypto::sha256(url).hex() + ".InRelease");
  }

  std::optional<std::string> fresh_release(const std::string& url) const {
    if (m_request.release_max_age <= 0) {
      return std::nullopt;
    }
    std::error_code ec;
    auto path = release_copy(url);
    auto written = std::filesystem::last_write_time(path, ec);
    if (ec) {
      return std::nullopt;
    }
    auto age = std::filesystem::file_time_type::clock::now() - written;
    if (age < std::chrono::seconds(0) || age > std::chrono::seconds(m_request.release_max_age)) {
      return std::nullopt;
    }
    auto text = util::read_file(path);
    return text.ok() ? std::optional<std::string>(std::move(*text)) : std::nullopt;
  }

  void keep_release(const std::string& url, const std::string& body) const {
    std::error_code ec;
    std::filesystem::create_directories(release_copy(url).parent_path(), ec);
    // Best effort, like the resolution cache: a copy not kept only costs time.
    (void)util::write_file_atomic(release_copy(url), body);
  }

  std::filesystem::path resolution_path(const std::string& key) const {
    return m_cache.dir() / "resolutions" / (key + ".json");
  }

  Result<std::vector<InstalledPackage>> resolve(const Spec& spec, const Stage& stage,
                                                const std::string& arch) {
    debian::ResolveRequest request;
    request.packages = spec.packages;
    request.exclude = stage.exclude;
    request.arch = arch;
    for (const auto& p : stage.packages) {
      request.installed.emplace_back(p.name, p.version);
    }
    // A resolution is cached under its inputs and the Release files' bytes;
    // a warm build then neither decompresses nor parses a Packages index.
    std::string cache_key;
    if (!m_lock) {
      auto fingerprint = release_fingerprint(stage.sources);
      if (fingerprint.ok()) {
        LayerKey key("resolution");
        key.add("releases", *fingerprint).add("sources", sources_key(stage.sources, arch));
        key.add("packages", join(request.packages, ",")).add("exclude", join(request.exclude, ","));
        for (const auto& [name, version] : request.installed) {
          key.add("installed", name + "=" + version);
        }
        cache_key = key.hex();
        auto text = util::read_file(resolution_path(cache_key));
        if (text.ok()) {
          auto cached = debian::parse_lock(*text, resolution_path(cache_key).string());
          if (cached.ok() && cached->packages.count(arch) != 0) {
            std::vector<InstalledPackage> out;
            for (const auto& locked : cached->packages[arch]) {
              m_locked[arch][locked.name] = locked;
              out.push_back(to_installed(locked));
            }
            return out;
          }
        }
      }
    }
    DISTILL_TRY(const debian::PackageIndex* index, index_for(stage.sources, arch));
    auto resolved = debian::resolve(*index, request);
    if (!resolved.ok()) {
      return resolved.error().context(spec.display_name + " (" + arch + ")");
    }
    std::vector<InstalledPackage> out;
    debian::LockFile record;
    for (const auto* r : *resolved) {
      out.push_back(to_installed(*r));
      debian::LockedPackage locked = debian::lock_package(*r);
      m_locked[arch][locked.name] = locked;
      record.packages[arch].push_back(std::move(locked));
    }
    if (!cache_key.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(resolution_path(cache_key).parent_path(), ec);
      // Best effort: a cache that cannot be written only costs time.
      (void)util::write_file_atomic(resolution_path(cache_key), debian::to_json(record));
    }
    return out;
  }

  // Brings `packages` into the cache and points them at their files. Those the
  // background fetch is bringing in are waited for, unless `wait` is false:
  // then whoever reads one must call await() first (a package layer does).
  Status download(std::vector<InstalledPackage>& packages, bool wait = true) {
    std::vector<net::FetchItem> items;
    for (const auto& p : packages) {
      if (m_cache.contains(p.sha256)) {
        continue;
      }
      if (m_fetching && m_fetching->covers(p.sha256)) {
        if (wait) {
          DISTILL_CHECK(m_fetching->wait(p.sha256));  // on its way already
        }
        continue;
      }
      items.push_back(fetch_item(p));
    }
    if (!items.empty()) {
      DISTILL_CHECK(m_cache.fetch_all(
          *m_http, items, std::max(4U, m_jobs * 2), [&](const net::FetchProgress& fp) {
            m_progress.update("downloading", fp.items_done, fp.items_total, fp.bytes_done);
          }));
    }
    for (auto& p : packages) {
      p.deb_file = m_cache.path_for(p.sha256);
    }
    return {};
  }

  Status await(const std::vector<InstalledPackage>& packages) {
    for (const auto& p : packages) {
      if (m_fetching) {
        DISTILL_CHECK(m_fetching->wait(p.sha256));
      }
    }
    return {};
  }

  static net::FetchItem fetch_item(const InstalledPackage& p) {
    return {{net::url_join(p.repo_url, p.filename)}, p.sha256, p.size, p.name};
  }

  // A layer built by `fill` unless the cache has one for `key`.
  struct LayerJob {
    std::string key;
    std::string created_by;
    std::function<Status(LayerWriter&)> fill;
  };

  Result<std::vector<oci::LayerBlob>> build_layers(const std::vector<LayerJob>& jobs) {
    std::vector<std::optional<oci::LayerBlob>> blobs(jobs.size());
    std::vector<size_t> todo;
    for (size_t i = 0; i < jobs.size(); ++i) {
      blobs[i] = m_layers.lookup(jobs[i].key);
      if (!blobs[i]) {
        todo.push_back(i);
      }
    }
    std::vector<std::optional<Error>> errors(jobs.size());
    unsigned workers = std::max(1U, std::min<unsigned>(m_jobs, static_cast<unsigned>(todo.size())));
    unsigned threads_per_layer = std::max(1U, m_jobs / std::max(1U, workers));
    std::atomic<size_t> done{0};
    std::atomic<uint64_t> written{0};  // compressed bytes, for the progress line
    util::parallel_for(todo.size(), workers, [&](size_t t) {
      size_t i = todo[t];
      auto result = [&]() -> Result<oci::LayerBlob> {
        DISTILL_TRY(auto writer, LayerWriter::create(m_layers.blob_dir(), m_request.compression,
                                                     threads_per_layer));
        DISTILL_CHECK(jobs[i].fill(*writer));
        DISTILL_TRY(auto blob, writer->finish());
        DISTILL_CHECK(m_layers.store(jobs[i].key, blob));
        return blob;
      }();
      if (result.ok()) {
        written += result->descriptor.size;
        blobs[i] = *result;
      } else {
        errors[i] = result.error();
      }
      m_progress.update("assembling layers", ++done, todo.size(), written.load());
    });
    std::vector<oci::LayerBlob> out;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (errors[i]) {
        return *errors[i];
      }
      out.push_back(*blobs[i]);
    }
    return out;
  }

  std::string epoch_key() const { return std::to_string(m_request.source_date_epoch); }

  LayerJob package_job(std::vector<InstalledPackage> group) {
    LayerKey key("packages");
    key.add("epoch", m_request.source_date_epoch)
        .add("compression", archive::to_string(m_request.compression));
    std::vector<std::string> names;
    for (const auto& p : group) {
      key.add("package", p.name).add("sha256", p.sha256.hex());
      names.push_back(p.name + " " + p.version);
    }
    int64_t epoch = m_request.source_date_epoch;
    // The pass that writes a package also catalogs its libraries when that
    // catalog is not stored yet (for ld.so.cache and `trace:`).
    // A layer starts as soon as its own packages are here (download(.., false)).
    return {key.hex(), "distill: packages " + join(names, ", "),
            [group = std::move(group), epoch, cache = m_cache.dir(),
             fetching = m_fetching.get()](LayerWriter& writer) -> Status {
              for (const auto& p : group) {
                if (fetching != nullptr) {
                  DISTILL_CHECK(fetching->wait(p.sha256));
                }
                if (has_package_libraries(p, cache)) {
                  DISTILL_CHECK(write_package(writer, p, epoch));
                  continue;
                }
                LibraryScanner libraries;
                DISTILL_CHECK(write_package(writer, p, epoch, &libraries));
                store_package_libraries(p, cache, libraries.take());
              }
              return {};
            }};
  }

  Result<LayerJob> entries_job(std::string kind, std::string created_by,
                               std::vector<GeneratedEntry> entries) {
    DISTILL_TRY(auto fingerprint, entries_fingerprint(entries));
    LayerKey key(kind);
    key.add("compression", archive::to_string(m_request.compression)).add("entries", fingerprint);
    return LayerJob{key.hex(), std::move(created_by),
                    [entries = std::move(entries)](LayerWriter& writer) -> Status {
                      for (const auto& e : entries) {
                        DISTILL_CHECK(writer.add(e));
                      }
                      return {};
                    }};
  }

  Result<Stage> build_stage(const Spec& spec, const std::string& arch, int depth) {
    DISTILL_TRY(Stage stage, build_base(spec, arch, depth));
    const size_t base_layers = stage.layers.size();
    if (!spec.release.empty()) {
      stage.release = spec.release;
    } else if (stage.release.empty()) {
      stage.release = std::string(k_default_release);
    }
    for (const auto& e : spec.exclude) {
      if (std::find(stage.exclude.begin(), stage.exclude.end(), e) == stage.exclude.end()) {
        stage.exclude.push_back(e);
      }
    }
    std::vector<LayerJob> jobs;
    std::vector<InstalledPackage> added;
    if (!spec.packages.empty() || !spec.trace.empty()) {
      DISTILL_TRY(stage.sources, sources_for(spec, stage, stage.release));
      stage.sources_explicit = !spec.sources.empty() || stage.sources_explicit;
      if (!(m_assemble && m_resolved_first)) {  // else a resolution-cache hit: no news
        m_progress.step("resolving " + spec.display_name + " for " + arch);
      }
      DISTILL_TRY(added, resolve(spec, stage, arch));
      // `lock` needs the .debs only to follow `trace:` through their libraries.
      // Without it, the package layers wait for their own .debs, not all of them.
      if (m_assemble || !spec.trace.empty()) {
        DISTILL_CHECK(download(added, !spec.trace.empty()));
      }
      if (!spec.trace.empty()) {
        DISTILL_TRY(added, trace_libraries(spec, stage, arch, std::move(added)));
      }
      if (!m_assemble) {
        m_fetch_order.push_back(added);
        stage.packages.insert(stage.packages.end(), added.begin(), added.end());
        std::sort(
            stage.packages.begin(), stage.packages.end(),
            [](const InstalledPackage& a, const InstalledPackage& b) { return a.name < b.name; });
        return stage;
      }
      size_t reserved = 1 + (spec.from.empty() ? 1 : 0) + ((spec.users || spec.groups) ? 1 : 0);
      size_t used = base_layers + reserved;
      size_t budget = used < k_max_layers ? k_max_layers - used : 1;
      std::vector<uint64_t> sizes;
      for (const auto& p : added) {
        sizes.push_back(p.size);
      }
      for (const auto& group : plan_layers(sizes, budget)) {
        std::vector<InstalledPackage> members;
        for (size_t i : group) {
          members.push_back(added[i]);
        }
        jobs.push_back(package_job(std::move(members)));
      }
      stage.has_packages = true;
    } else if (!spec.sources.empty()) {
      stage.sources = to_apt_sources(spec);
      stage.sources_explicit = true;
    }
    if (!m_assemble) {
      return stage;  // resolving only: what follows reads .debs and makes layers
    }
    const int64_t epoch = m_request.source_date_epoch;
    if (spec.users || spec.groups) {
      std::vector<Account> users;
      for (const auto& u : spec.users.value_or(std::vector<SpecUser>{})) {
        users.push_back({u.name, u.uid, u.gid, u.home, u.shell});
      }
      std::vector<Group> groups;
      for (const auto& g : spec.groups.value_or(std::vector<SpecGroup>{})) {
        groups.push_back({g.name, g.gid, g.members});
      }
      stage.accounts = merge_accounts(stage.accounts, users, groups);
    }
    if (spec.from.empty()) {
      DISTILL_TRY(auto job,
                  entries_job("generated", "distill: accounts, os-release, nsswitch, /tmp",
                              base_files(stage.accounts, stage.release, epoch)));
      jobs.push_back(std::move(job));
    } else if (spec.users || spec.groups) {
      DISTILL_TRY(auto job, entries_job("accounts", "distill: accounts",
                                        account_files(stage.accounts, epoch)));
      jobs.push_back(std::move(job));
    }
    // The package layers first: writing them catalogs the packages' libraries,
    // which the top layer's ld.so.cache is made from.
    DISTILL_TRY(auto blobs, build_layers(jobs));
    DISTILL_CHECK(await(added));  // a cached layer did not wait for its .debs
    // One layer on top for what the stage generates (ld.so.cache, trust
    // store) and the spec's files, so a flavor chain stays within k_max_layers.
    std::vector<GeneratedEntry> top;
    std::vector<std::string> top_what;
    if (!added.empty()) {
      std::vector<InstalledPackage> all = stage.packages;
      all.insert(all.end(), added.begin(), added.end());
      DISTILL_TRY(top, system_files(all, arch, top_what));
    }
    std::set<std::string> own;
    bool adds_certificates = false;
    if (!spec.files.empty()) {
      DISTILL_TRY(auto entries, expand_spec_files(spec, epoch));
      // Certificates added for update-ca-certificates (local_ca.hpp).
      DISTILL_TRY(auto certificates, local_certificates(entries));
      adds_certificates = !certificates.empty();
      stage.local_certificates =
          merge_local_certificates(std::move(stage.local_certificates), std::move(certificates));
      // The spec's own files win over generated ones at the same path.
      for (const auto& e : entries) {
        own.insert(e.entry.path);
      }
      std::erase_if(top, [&](const GeneratedEntry& e) { return own.count(e.entry.path) != 0; });
      top.insert(top.end(), entries.begin(), entries.end());
      top_what.push_back("files of " + spec.display_name);
    }
    // The chain's private CAs: a new CA bundle and Java trust store where this
    // stage adds some or its packages would bring back the packages' ones.
    if (!stage.local_certificates.empty()) {
      std::vector<InstalledPackage> chain = stage.packages;
      chain.insert(chain.end(), added.begin(), added.end());
      if (must_regenerate_ca_files(stage.local_certificates, adds_certificates, added, chain)) {
        DISTILL_TRY(auto ca_files,
                    local_ca_files(chain, stage.local_certificates, epoch, top_what));
        for (auto& f : ca_files) {
          if (own.count(f.entry.path) == 0) {
            std::erase_if(top,
                          [&](const GeneratedEntry& e) { return e.entry.path == f.entry.path; });
            top.push_back(std::move(f));
          }
        }
      }
    }
    if (!top.empty()) {
      complete_and_sort(top, epoch);
      top.erase(std::unique(top.begin(), top.end(),
                            [](const GeneratedEntry& a, const GeneratedEntry& b) {
                              return a.entry.path == b.entry.path;
                            }),
                top.end());
      DISTILL_TRY(auto job, entries_job("top", "distill: " + join(top_what, ", "), std::move(top)));
      DISTILL_TRY(auto top_blobs, build_layers({job}));
      jobs.push_back(std::move(job));
      blobs.insert(blobs.end(), top_blobs.begin(), top_blobs.end());
    }
    for (size_t i = 0; i < blobs.size(); ++i) {
      stage.layers.push_back(blobs[i]);
      stage.history.push_back({oci::format_rfc3339(epoch), jobs[i].created_by, "", false});
    }
    bool had_ca =
        std::any_of(stage.packages.begin(), stage.packages.end(),
                    [](const InstalledPackage& p) { return p.name == "ca-certificates"; });
    stage.packages.insert(stage.packages.end(), added.begin(), added.end());
    std::sort(stage.packages.begin(), stage.packages.end(),
              [](const InstalledPackage& a, const InstalledPackage& b) { return a.name < b.name; });
    apply_spec(stage.config, spec);
    bool has_ca = std::any_of(added.begin(), added.end(), [](const InstalledPackage& p) {
      return p.name == "ca-certificates";
    });
    if (has_ca && !had_ca) {
      set_env(stage.config.config.env, "SSL_CERT_FILE", "/" + std::string(k_ca_bundle));
    }
    return stage;
  }

  // `trace:`: the shared libraries the listed ELF files need (recursively)
  // must be in the image; a missing soname is looked up in the archive's
  // Contents index and its package added through the resolver.
  Result<std::vector<InstalledPackage>> trace_libraries(const Spec& spec, const Stage& stage,
                                                        const std::string& arch,
                                                        std::vector<InstalledPackage> added) {
    std::string triplet = multiarch_triplet(arch);
    std::vector<std::string> extra;
    // The base stages' libraries count too. When resolving only (`lock`, and
    // the first pass of a build) their .debs were not fetched: fetch them now.
    std::vector<InstalledPackage> base = stage.packages;
    DISTILL_CHECK(download(base));
    for (int round = 0; round < 8; ++round) {
      std::vector<InstalledPackage> all = base;
      all.insert(all.end(), added.begin(), added.end());
      DISTILL_TRY(auto missing, missing_libraries(spec, all));
      if (missing.empty()) {
        return added;
      }
      if (m_soname_providers.count(arch) == 0) {
        m_progress.step("looking up " + missing.begin()->first + " in the Contents index");
        debian::RepositoryOptions options;
        options.allow_expired = m_request.allow_expired_release;
        DISTILL_TRY(auto providers,
                    debian::load_soname_providers(*m_http, m_cache, stage.sources, arch, options));
        m_soname_providers[arch] = std::move(providers);
      }
      for (const auto& [soname, needed_by] : missing) {
        auto candidates = debian::packages_for_soname(m_soname_providers[arch], soname, triplet);
        if (candidates.empty()) {
          return make_error(ErrorKind::NotFound, spec.where("trace") + ": " + needed_by +
                                                     " needs " + soname +
                                                     ", which no package in the sources provides");
        }
        if (std::find(extra.begin(), extra.end(), candidates.front()) != extra.end()) {
          return make_error(ErrorKind::NotFound, spec.where("trace") + ": " + needed_by +
                                                     " needs " + soname + ", and package " +
                                                     candidates.front() + " did not provide it");
        }
        extra.push_back(candidates.front());
      }
      Spec widened = spec;
      widened.packages.insert(widened.packages.end(), extra.begin(), extra.end());
      m_progress.step("trace: adding " + join(extra, ", "));
      DISTILL_TRY(added, resolve(widened, stage, arch));
      DISTILL_CHECK(download(added));
    }
    return make_error(ErrorKind::Internal,
                      spec.where("trace") + ": library closure did not settle");
  }

  // soname -> the file that needs it, for every library the trace roots need
  // (through the libraries' own DT_NEEDED) that no installed package ships.
  Result<std::map<std::string, std::string>> missing_libraries(
      const Spec& spec, const std::vector<InstalledPackage>& packages) {
    std::map<std::string, const LibraryFile*> by_name;  // file name and soname
    std::vector<LibraryCatalog> catalogs;
    catalogs.reserve(packages.size());
    for (const auto& p : packages) {
      DISTILL_TRY(auto catalog, package_libraries(p, m_cache.dir()));
      catalogs.push_back(std::move(catalog));
    }
    for (const auto& catalog : catalogs) {
      for (const auto& file : catalog.files) {
        by_name[file.path.substr(file.path.rfind('/') + 1)] = &file;
        if (file.elf && !file.soname.empty()) {
          by_name.emplace(file.soname, &file);
        }
      }
    }
    std::map<std::string, std::string> missing;
    std::set<std::string> seen;
    std::vector<std::pair<std::string, std::string>> queue;  // soname, needed by
    for (const auto& root : spec.trace) {
      auto file = std::find_if(spec.files.begin(), spec.files.end(), [&](const SpecFile& f) {
        return f.dst == root && f.kind == SpecFile::Kind::File;
      });
      if (file == spec.files.end()) {
        return make_error(ErrorKind::InvalidInput,
                          spec.where("trace:" + root) + ": " + root +
                              " is not a file added by this spec's `files:`");
      }
      DISTILL_TRY(auto data, util::read_file(file->src));
      DISTILL_TRY(auto info, elf::parse_elf(data, file->src.string()));
      if (!info.interpreter.empty()) {
        queue.emplace_back(info.interpreter.substr(info.interpreter.rfind('/') + 1), root);
      }
      for (const auto& needed : info.needed) {
        queue.emplace_back(needed, root);
      }
    }
    while (!queue.empty()) {
      auto [soname, needed_by] = queue.back();
      queue.pop_back();
      if (!seen.insert(soname).second) {
        continue;
      }
      auto it = by_name.find(soname);
      if (it == by_name.end()) {
        missing.emplace(soname, needed_by);
        continue;
      }
      const LibraryFile* lib = it->second;
      // Follow a soname link to the file in the same directory.
      for (int hops = 0; lib->symlink && hops < 8; ++hops) {
        auto target = by_name.find(lib->target.substr(lib->target.rfind('/') + 1));
        if (target == by_name.end()) {
          break;
        }
        lib = target->second;
      }
      for (const auto& needed : lib->needed) {
        queue.emplace_back(needed, lib->path);
      }
    }
    return missing;
  }

  // What maintainer scripts would have generated from the packages of the
  // whole chain: /etc/ld.so.cache (ldconfig) and the Java trust store
  // (ca-certificates-java). Nothing when neither applies.
  Result<std::vector<GeneratedEntry>> system_files(const std::vector<InstalledPackage>& packages,
                                                   const std::string& arch,
                                                   std::vector<std::string>& what) {
    const int64_t epoch = m_request.source_date_epoch;
    std::vector<GeneratedEntry> entries;
    bool has_libc = std::any_of(packages.begin(), packages.end(),
                                [](const InstalledPackage& p) { return p.name == "libc6"; });
    if (has_libc) {
      std::vector<std::optional<Result<LibraryCatalog>>> catalogs(packages.size());
      util::parallel_for(packages.size(), m_jobs, [&](size_t i) {
        catalogs[i] = package_libraries(packages[i], m_cache.dir());
      });
      std::vector<LibraryCatalog> ready;
      for (auto& catalog : catalogs) {
        if (!catalog->ok()) {
          return catalog->error();
        }
        ready.push_back(std::move(*catalog).value());
      }
      DISTILL_TRY(auto cache, make_ld_so_cache(ready, multiarch_triplet(arch)));
      if (!cache.empty()) {
        entries.push_back(make_file("etc/ld.so.cache", std::move(cache), 0644, epoch));
        what.emplace_back("ld.so.cache");
      }
    }
    auto ca = std::find_if(packages.begin(), packages.end(),
                           [](const InstalledPackage& p) { return p.name == "ca-certificates"; });
    bool has_java = std::any_of(packages.begin(), packages.end(), [](const InstalledPackage& p) {
      return p.name.rfind("openjdk-", 0) == 0 && p.name.find("-jre-headless") != std::string::npos;
    });
    if (has_java && ca != packages.end()) {
      DISTILL_TRY(auto bundle, read_ca_bundle(*ca));
      DISTILL_TRY(auto store, make_java_truststore(bundle, epoch));
      entries.push_back(make_file("etc/ssl/certs/java/cacerts", std::move(store), 0644, epoch));
      what.emplace_back("java cacerts");
    }
    return entries;
  }

  // The debug variants' busybox: Debian's busybox-static at /busybox/busybox.
  Status add_busybox(Stage& stage, const std::string& arch) {
    if (stage.sources.empty()) {
      DISTILL_TRY(stage.sources, debian::read_host_sources(m_request.apt_root, stage.release));
    }
    Spec busybox;
    busybox.display_name = "debug variant";
    busybox.packages = {"busybox-static"};
    Stage lookup = stage;
    lookup.packages.clear();
    DISTILL_TRY(auto resolved, resolve(busybox, lookup, arch));
    DISTILL_CHECK(download(resolved));
    auto it = std::find_if(resolved.begin(), resolved.end(),
                           [](const InstalledPackage& p) { return p.name == "busybox-static"; });
    if (it == resolved.end()) {
      return make_error(ErrorKind::NotFound,
                        "busybox-static: not found in the sources for " + arch);
    }
    InstalledPackage package = *it;
    int64_t epoch = m_request.source_date_epoch;
    LayerKey key("busybox");
    key.add("sha256", package.sha256.hex())
        .add("epoch", epoch)
        .add("compression", archive::to_string(m_request.compression));
    LayerJob job{key.hex(), "distill: busybox-static " + package.version + " at /busybox",
                 [package, epoch](LayerWriter& writer) -> Status {
                   return write_busybox_layer(writer, package, epoch);
                 }};
    DISTILL_TRY(auto blobs, build_layers({job}));
    stage.layers.push_back(blobs.at(0));
    stage.history.push_back({oci::format_rfc3339(epoch), job.created_by, "", false});
    stage.packages.push_back(package);
    std::sort(stage.packages.begin(), stage.packages.end(),
              [](const InstalledPackage& a, const InstalledPackage& b) { return a.name < b.name; });
    return {};
  }

  // A build in two passes: every stage is resolved first (as `lock` does),
  // then the Packages indexes (tens of MB) are freed before any layer is
  // assembled; the assembling pass finds each resolution in the resolution
  // cache, keyed by the Release copies the first pass just fetched. So the
  // indexes and the layer pipeline (decoders, compressors) never hold memory at
  // the same time. With a lock file there is no index to free. Then every
  // stage's .debs start downloading at once on their own thread
  // (BackgroundFetch), in stage order: each stage waits only for its own
  // packages, so later stages' transfers overlap earlier stages' layers.
  Result<BuildResult> resolve_then_assemble() {
    if (m_request.lock_file.empty()) {
      DISTILL_CHECK(run(false));
      m_resolved_first = true;
      m_indices.clear();
      ::malloc_trim(0);  // give the freed index memory back to the system now
      // In the order the stages will need them (the first pass records each
      // stage's packages as it resolves them, bases first), largest first
      // within a stage: a stage's layers wait for all of its packages.
      std::vector<net::FetchItem> items;
      std::set<crypto::Digest> seen;
      for (auto& stage_packages : m_fetch_order) {
        std::stable_sort(
            stage_packages.begin(), stage_packages.end(),
            [](const InstalledPackage& a, const InstalledPackage& b) { return a.size > b.size; });
        for (const auto& p : stage_packages) {
          if (!m_cache.contains(p.sha256) && seen.insert(p.sha256).second) {
            items.push_back(fetch_item(p));
          }
        }
      }
      m_fetch_order.clear();
      if (!items.empty()) {
        m_fetching = std::make_unique<BackgroundFetch>(
            m_cache, *m_http, std::move(items), std::max(4U, m_jobs * 2),
            [this](const net::FetchProgress& fp) {
              m_progress.update("downloading", fp.items_done, fp.items_total, fp.bytes_done);
            });
      }
    }
    return run(true);
  }

  Result<BuildResult> run(bool assemble) {
    m_assemble = assemble;
    DISTILL_CHECK(load_lock());
    DISTILL_TRY(Spec spec, load_top_spec());
    BuildResult result;
    result.name = !m_request.name.empty() ? m_request.name : spec.name;
    if (result.name.empty()) {
      result.name = std::filesystem::path(m_request.spec).stem().string();
    }
    result.tag = m_request.tag;
    result.archs = !m_request.archs.empty() ? m_request.archs : spec.archs;
    if (result.archs.empty()) {
      result.archs = {debian::host_architecture()};
    }
    if (m_lock && m_request.frozen) {
      DISTILL_TRY(auto digest, spec_digest(spec, result.archs));
      if (m_lock->spec_digest != digest) {
        return make_error(ErrorKind::InvalidInput,
                          m_request.lock_file.string() + ": the lock no longer matches " +
                              spec.display_name + " (--frozen); run `distill lock` again");
      }
    }
    for (const auto& arch : result.archs) {
      DISTILL_TRY(Stage stage, build_stage(spec, arch, 0));
      if (assemble && is_debug(m_request.variant)) {
        DISTILL_CHECK(add_busybox(stage, arch));
      }
      apply_variant(stage.config, m_request.variant);
      record_lock(result.lock, stage, arch);
      result.packages[arch] = stage.packages;
      if (!assemble) {
        continue;
      }
      oci::ImageManifest manifest;
      manifest.platform = oci::platform_for_debian_arch(arch);
      manifest.config = stage.config.config;
      manifest.config.architecture = manifest.platform.architecture;
      manifest.config.variant = manifest.platform.variant;
      manifest.config.os = manifest.platform.os;
      manifest.config.created = oci::format_rfc3339(m_request.source_date_epoch);
      manifest.config.history = stage.history;
      manifest.layers = stage.layers;
      result.image.manifests.push_back(std::move(manifest));
    }
    DISTILL_TRY(result.lock.spec_digest, spec_digest(spec, result.archs));
    if (!assemble) {
      return result;
    }
    result.image.manifest_annotations = spec.annotations;
    DISTILL_CHECK(oci::finalize(result.image));
    DISTILL_CHECK(write_outputs(result));
    return result;
  }

  void record_lock(debian::LockFile& lock, const Stage& stage, const std::string& arch) {
    for (const auto& s : stage.sources) {
      bool present = std::any_of(
          lock.sources.begin(), lock.sources.end(),
          [&](const debian::AptSource& a) { return a.url == s.url && a.suites == s.suites; });
      if (!present) {
        lock.sources.push_back(s);
      }
    }
    auto& packages = lock.packages[arch];
    for (const auto& p : stage.packages) {
      debian::LockedPackage locked = locked_from(p, arch);
      packages.push_back(std::move(locked));
    }
  }

  debian::LockedPackage locked_from(const InstalledPackage& p, const std::string& arch) {
    auto by_arch = m_locked.find(arch);
    if (by_arch != m_locked.end()) {
      auto it = by_arch->second.find(p.name);
      if (it != by_arch->second.end() && it->second.sha256 == p.sha256) {
        return it->second;
      }
    }
    debian::LockedPackage locked;
    locked.name = p.name;
    locked.version = p.version;
    locked.arch = p.arch;
    locked.filename = p.filename;
    locked.repo_url = p.repo_url;
    locked.sha256 = p.sha256;
    locked.size = p.size;
    return locked;
  }

  // What determines resolution: the chain's package lists, excludes, sources,
  // release and architectures. --frozen compares it with the lock's.
  Result<std::string> spec_digest(const Spec& top, const std::vector<std::string>& archs) {
    LayerKey key("resolution");
    key.add("archs", join(archs, ","));
    const Spec* spec = &top;
    Spec holder;
    for (int depth = 0; depth < 16; ++depth) {
      key.add("packages", join(spec->packages, ",")).add("exclude", join(spec->exclude, ","));
      key.add("release", spec->release);
      for (const auto& s : spec->sources) {
        key.add("source", s.url + " " + join(s.suites, ",") + " " + join(s.components, ","));
      }
      key.add("from", spec->from);
      if (spec->from.empty()) {
        break;
      }
      if (find_flavor(spec->from) != nullptr) {
        DISTILL_TRY(holder, load_flavor(spec->from));
      } else {
        std::filesystem::path candidate = spec->from;
        if (candidate.is_relative() && !spec->file.empty()) {
          candidate = spec->file.parent_path() / candidate;
        }
        if (!std::filesystem::exists(candidate)) {
          break;  // an image reference: its packages are fixed already
        }
        DISTILL_TRY(holder, load_spec(candidate));
      }
      spec = &holder;
    }
    return key.hex();
  }

  Status write_outputs(BuildResult& result) {
    std::vector<std::string> outputs = m_request.outputs;
    if (outputs.empty()) {
      outputs.push_back("oci:./out/" + result.name + ":" + result.tag);
    }
    DISTILL_TRY(result.outputs_written,
                image::write_outputs(result.image, outputs, {result.name, result.tag},
                                     m_request.registry, m_progress));
    return {};
  }

 private:
  const BuildRequest& m_request;
  util::Progress& m_progress;
  net::ContentCache m_cache;
  LayerCache m_layers;
  std::unique_ptr<net::HttpClient> m_http;
  unsigned m_jobs;
  std::optional<debian::LockFile> m_lock;
  std::map<std::string, std::unique_ptr<debian::LoadedIndex>> m_indices;
  // What each resolved package looks like in a lock (with its relationships).
  std::map<std::string, std::map<std::string, debian::LockedPackage>> m_locked;
  std::map<std::string, debian::SonameProviders> m_soname_providers;  // by arch
  std::map<std::string, std::string> m_fingerprints;       // InRelease URLs -> release_fingerprint
  std::map<std::string, std::string> m_fetched_inrelease;  // URL -> body, fetched by this build
  bool m_assemble = true;                                  // false for `lock`: resolve only
  bool m_resolved_first = false;                           // a first pass has resolved every stage
  std::vector<std::shared_ptr<oci::LoadedImage>> m_keepalive;
  // What the resolving pass found, stage by stage (bases first), to download.
  std::vector<std::vector<InstalledPackage>> m_fetch_order;
  // Last, so it is joined first: its thread uses m_cache and m_http.
  std::unique_ptr<BackgroundFetch> m_fetching;
};

Result<std::unique_ptr<Builder>> make_builder(const BuildRequest& request) {
  std::filesystem::path cache_dir =
      request.cache_dir.empty() ? net::default_cache_dir() : request.cache_dir;
  DISTILL_TRY(auto cache, net::ContentCache::open(cache_dir));
  util::Progress& progress =
      request.progress != nullptr ? *request.progress : util::quiet_progress();
  return std::make_unique<Builder>(request, progress, std::move(cache), net::make_curl_client());
}

}  // namespace

Result<BuildResult> build_image(const BuildRequest& request) {
  DISTILL_TRY(auto builder, make_builder(request));
  return builder->resolve_then_assemble();
}

Result<debian::LockFile> lock_image(const BuildRequest& request) {
  DISTILL_TRY(auto builder, make_builder(request));
  DISTILL_TRY(auto result, builder->run(false));
  return std::move(result.lock);
}

}  // namespace distill::image
