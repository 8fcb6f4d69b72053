#include "image/plan.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include "crypto/sha256.hpp"
#include "debian/architecture.hpp"
#include "debian/contents_index.hpp"
#include "debian/package_index.hpp"
#include "debian/release.hpp"
#include "debian/release_fetch.hpp"
#include "debian/releases.hpp"
#include "debian/repository.hpp"
#include "debian/resolver.hpp"
#include "elf/elf_reader.hpp"
#include "image/base_layers.hpp"
#include "image/busybox_layer.hpp"
#include "image/files_layer.hpp"
#include "image/from_chain.hpp"
#include "image/layer_cache.hpp"
#include "image/layer_plan.hpp"
#include "image/library_catalog.hpp"
#include "image/lower_tree.hpp"
#include "image/provenance.hpp"
#include "image/release_snapshot.hpp"
#include "image/spec.hpp"
#include "oci/image_reader.hpp"
#include "oci/image_ref.hpp"
#include "oci/source.hpp"
#include "util/file_io.hpp"
#include "util/nearest_word.hpp"
#include "util/text.hpp"

namespace distill::image {

namespace {

using util::join;

void sort_by_name(std::vector<InstalledPackage>& packages) {
  std::sort(packages.begin(), packages.end(),
            [](const InstalledPackage& a, const InstalledPackage& b) { return a.name < b.name; });
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

// Sources as far as "the same archive" goes: URL, suites, components.
bool same_sources(const std::vector<debian::AptSource>& a,
                  const std::vector<debian::AptSource>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const debian::AptSource& x, const debian::AptSource& y) {
                      return x.url == y.url && x.suites == y.suites && x.components == y.components;
                    });
}

// One package as another type of record: a package record, a locked package
// and an installed package share these field names.
template <typename To, typename From>
To same_package(const From& package) {
  To p;
  p.name = package.name;
  p.version = package.version;
  p.arch = package.arch;
  p.sha256 = package.sha256;
  p.size = package.size;
  p.filename = package.filename;
  p.repo_url = package.repo_url;
  return p;
}

template <typename Package>
InstalledPackage to_installed(const Package& package) {
  return same_package<InstalledPackage>(package);
}

net::FetchItem fetch_item(const InstalledPackage& p) {
  return {{net::url_join(p.repo_url, p.filename)}, p.sha256, p.size, p.name};
}

// One spec of the `from:` chain, planned for one architecture.
struct Stage {
  std::string release;
  std::vector<debian::AptSource> sources;
  std::vector<std::string> exclude;  // accumulated along the chain
  std::vector<size_t> layers;        // node indices
  std::vector<oci::HistoryEntry> history;
  ConfigState config;
  std::vector<InstalledPackage> packages;  // everything installed, whole chain
  std::vector<size_t> package_nodes;       // their layers (a Top waits for them)
  Accounts accounts = default_accounts();
  std::vector<LocalCertificate> local_certificates;  // private CAs of the chain
  std::vector<ProvenanceStage> recorded;             // each spec's provenance
  std::vector<ArchiveInput> archives;                // `archives:` of the chain, for the lock
};

// Release and sources: one per image. A stage inherits its base's; one that
// names different ones would make a mixed image, so it is refused, naming
// both specs, as the chain is loaded (load_chains): before the cache is
// opened or any request made. So is a spec whose release is not the one
// --release asks for.
Status check_agreement(const SpecChain& chain, const BuildRequest& request) {
  std::string release;
  std::string release_where;
  if (!request.release.empty()) {
    for (const auto& spec : chain.specs) {
      if (!spec.release.empty() && spec.release != request.release) {
        return make_error(ErrorKind::InvalidInput, spec.where("release") + ": release '" +
                                                       spec.release + "', but --release " +
                                                       request.release + " was asked for");
      }
    }
  }
  std::vector<debian::AptSource> sources;
  std::string sources_where;
  for (const auto& spec : chain.specs) {
    if (!spec.release.empty()) {
      if (!release.empty() && spec.release != release) {
        std::string hint;
        if (chain.specs.front().file.empty() && debian::is_buildable_release(spec.release)) {
          hint = " (build with --release " + spec.release + " for its flavors)";
        }
        return make_error(ErrorKind::InvalidInput,
                          spec.where("release") + ": release '" + spec.release +
                              "' disagrees with its base's release '" + release + "' (" +
                              release_where + "); one image has one release" + hint);
      }
      release = spec.release;
      release_where = spec.where("release");
    } else if (release.empty()) {
      release = wanted_release(request);
      release_where = spec.display_name + ", which has no `release:` and so is " + release;
    }
    if (!spec.sources.empty()) {
      auto mine = to_apt_sources(spec);
      if (sources_where.empty()) {
        sources = std::move(mine);
        sources_where = spec.where("sources");
      } else if (!same_sources(mine, sources)) {
        return make_error(ErrorKind::InvalidInput,
                          spec.where("sources") +
                              ": `sources:` disagree with its base's sources (" + sources_where +
                              "); one image has one set of sources");
      }
    }
  }
  return {};
}

class Planner {
 public:
  Planner(const BuildRequest& request, BuildEnv& env, bool assemble)
      : m_request(request),
        m_env(env),
        m_assemble(assemble),
        m_snapshot(env, request.release_max_age, request.allow_release_rollback) {}

  Result<BuildPlan> run(const std::vector<NamedChain>& chains) {
    DISTILL_CHECK(load_lock());
    for (const auto& named : chains) {
      for (Variant variant : m_request.variants) {
        DISTILL_CHECK(plan_image(named.name, named.chain, variant));
      }
    }
    // The indexes (tens of MB) are not needed to assemble: give them back
    // before any layer pipeline (decoders, compressors) takes memory.
    m_indices.clear();
    m_soname_providers.clear();
    ::malloc_trim(0);
    // The largest .deb first, whatever its stage: the layers of every stage
    // are made at once, and the largest (java17's JDK) bounds the build.
    std::vector<const InstalledPackage*> to_fetch;
    for (const auto& stage_packages : m_fetch_order) {
      for (const auto& p : stage_packages) {
        to_fetch.push_back(&p);
      }
    }
    std::stable_sort(
        to_fetch.begin(), to_fetch.end(),
        [](const InstalledPackage* a, const InstalledPackage* b) { return a->size > b->size; });
    for (const InstalledPackage* p : to_fetch) {
      if (m_fetch_seen.insert(p->sha256).second && !m_env.cache.contains(p->sha256)) {
        m_plan.downloads.push_back(fetch_item(*p));
      }
    }
    for (auto& item : m_archive_downloads) {
      if (m_fetch_seen.insert(item.sha256).second && !m_env.cache.contains(item.sha256)) {
        m_plan.downloads.push_back(std::move(item));
      }
    }
    return std::move(m_plan);
  }

 private:
  Status load_lock() {
    if (m_request.lock_file.empty()) {
      return {};
    }
    DISTILL_TRY(auto text, util::read_file(m_request.lock_file));
    DISTILL_TRY(auto lock, debian::parse_lock(text, m_request.lock_file.string()));
    m_release_dates = lock.release_dates;
    m_lock = std::move(lock);
    return {};
  }

  Status plan_image(const std::string& spec_name, const SpecChain& chain, Variant variant) {
    const Spec& top = chain.specs.back();
    ImagePlan image;
    image.spec = spec_name;
    image.variant = variant;
    ImageIdentity id = image_identity(m_request, spec_name, chain, variant);
    image.name = std::move(id.name);
    image.tag = std::move(id.tag);
    m_image_label = image.label();
    DISTILL_CHECK(check_agreement(chain, m_request));
    const std::vector<std::string> archs = std::move(id.archs);
    DISTILL_TRY(image.lock.spec_digest, spec_digest(chain, archs));
    if (m_lock && m_request.frozen) {
      DISTILL_CHECK(check_locked_archives(chain, archs));
      if (m_lock->spec_digest != image.lock.spec_digest) {
        return make_error(ErrorKind::InvalidInput,
                          m_request.lock_file.string() + ": the lock no longer matches " +
                              top.display_name + " (--frozen); run `distill lock` again");
      }
    }
    for (const auto& arch : archs) {
      DISTILL_TRY(Stage stage, base_stage(chain, arch, image));
      for (const auto& spec : chain.specs) {
        DISTILL_CHECK(plan_stage(spec, arch, stage));
      }
      if (m_assemble && is_debug(variant)) {
        DISTILL_CHECK(add_busybox(stage, arch));
      }
      apply_variant(stage.config, variant);
      record_lock(image.lock, stage, arch);
      image.release = stage.release;
      ArchPlan plan;
      plan.arch = arch;
      if (m_assemble) {
        plan.provenance = provenance(chain, stage, arch, variant, image.lock.spec_digest);
      }
      plan.layers = std::move(stage.layers);
      plan.history = std::move(stage.history);
      plan.config = std::move(stage.config.config);
      plan.packages = std::move(stage.packages);
      image.archs.push_back(std::move(plan));
    }
    image.annotations = top.annotations;
    m_plan.images.push_back(std::move(image));
    return {};
  }

  // The stage below the chain's first spec: empty, or an image's layers.
  Result<Stage> base_stage(const SpecChain& chain, const std::string& arch, ImagePlan& image) {
    Stage stage;
    if (!chain.image_base) {
      return stage;
    }
    const Spec& spec = chain.specs.front();
    DISTILL_TRY(auto ref, oci::ImageRef::parse(*chain.image_base));
    // A registry base a lock records is pulled by the digest it recorded;
    // with --frozen the tag is resolved and must still name it.
    const bool from_registry = ref.transport == oci::ImageRef::Transport::Registry;
    std::string locked;
    if (m_lock && from_registry && m_lock->base_image == *chain.image_base) {
      locked = m_lock->base_image_digest;
    }
    if (!locked.empty() && !m_request.frozen && ref.digest.empty()) {
      ref.digest = locked;
    }
    // A registry base is pulled into the content cache (only this arch's
    // manifest; blobs verified, cached by digest); a tag resolved within the
    // release freshness window needs no request.
    oci::SourceOptions source;
    source.registry.auth_file = m_request.registry.auth_file;
    source.registry.tls_verify = m_request.registry.tls_verify;
    source.cert_dir = m_request.registry.cert_dir;
    source.pull.platform = oci::platform_for_debian_arch(arch);
    source.pull.cache_dir = m_env.cache.dir();
    source.pull.tag_fresh_for =
        std::chrono::seconds(std::max<int64_t>(0, m_request.release_max_age));
    auto opened = oci::open_image(ref, source);
    if (!opened.ok()) {
      return opened.error().context(spec.where("from"));
    }
    oci::LoadedImage loaded = std::move(opened).value();
    if (from_registry && !loaded.manifests.empty()) {
      std::string digest = loaded.index_descriptor
                               ? loaded.index_descriptor->digest.str()
                               : loaded.manifests.front().descriptor.digest.str();
      if (!locked.empty() && digest != locked) {
        return make_error(ErrorKind::InvalidInput,
                          spec.where("from") + ": " + spec.from + " now names " + digest +
                              ", not " + locked + " as " + m_request.lock_file.string() +
                              " records (--frozen); run `distill lock` again");
      }
      image.lock.base_image = *chain.image_base;
      image.lock.base_image_digest = digest;
    }
    auto base = std::make_shared<oci::LoadedImage>(std::move(loaded));
    image.keepalive.push_back(base);
    oci::Platform want = oci::platform_for_debian_arch(arch);
    const oci::LoadedManifest* chosen = nullptr;
    for (const auto& m : base->manifests) {
      if (m.platform.architecture == want.architecture || base->manifests.size() == 1) {
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
    DISTILL_CHECK(check_base_layers(*chosen, m_env.cache.dir() / "base-layers",
                                    spec.where("from") + ": " + spec.from));
    stage.config.config = chosen->config;
    stage.history = chosen->config.history;
    for (size_t i = 0; i < chosen->manifest.layers.size(); ++i) {
      LayerNode node;
      node.kind = LayerNode::Kind::Base;
      oci::LayerBlob blob;
      blob.descriptor = chosen->manifest.layers[i];
      blob.file = chosen->layer_files.at(i);
      if (i < chosen->config.diff_ids.size()) {
        blob.diff_id = chosen->config.diff_ids[i];
      }
      node.key = "base:" + blob.descriptor.digest.str();
      node.blob = std::move(blob);
      stage.layers.push_back(add_node(std::move(node)));
    }
    if (stage.history.empty()) {
      for (size_t i = 0; i < stage.layers.size(); ++i) {
        stage.history.push_back({oci::format_rfc3339(m_request.source_date_epoch),
                                 "base image " + spec.from, "", false});
      }
    }
    return stage;
  }

  // A node, or the one already planned under the same key.
  size_t add_node(LayerNode node) {
    auto [it, added] = m_node_index.emplace(node.key, m_plan.nodes.size());
    if (added) {
      node.image = m_image_label;
      m_plan.nodes.push_back(std::move(node));
    }
    return it->second;
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
      loaded->index.describe_source(m_request.lock_file.string() +
                                    " (the lock file; `distill lock` makes one for this spec)");
    } else {
      m_env.progress.step(m_image_label + ": fetching package indices for " + arch);
      DISTILL_TRY(auto options, repository_options());
      DISTILL_TRY(auto fetched,
                  debian::load_repositories(m_env.http, m_env.cache, sources, arch, options));
      *loaded = std::move(fetched);
    }
    auto* raw = loaded.get();
    m_indices.emplace(key, std::move(loaded));
    return &raw->index;
  }

  // Without the InRelease bodies already taken: load_repositories() then
  // fetches its own.
  debian::RepositoryOptions fetching_options() const {
    debian::RepositoryOptions options;
    options.allow_expired = m_request.allow_expired_release;
    options.allow_release_rollback = m_request.allow_release_rollback;
    options.now = static_cast<std::time_t>(m_env.clock.now());
    return options;
  }

  Result<debian::RepositoryOptions> repository_options() {
    debian::RepositoryOptions options = fetching_options();
    DISTILL_TRY(options.fetched_inrelease, m_snapshot.bodies());
    return options;
  }

  Result<std::vector<debian::AptSource>> sources_for(const Spec& spec, const Stage& base) {
    if (!spec.sources.empty()) {
      return to_apt_sources(spec);
    }
    if (!base.sources.empty()) {
      return base.sources;
    }
    auto host = debian::read_host_sources(m_request.apt_root, base.release);
    if (!host.ok()) {
      return host.error().context(spec.display_name + ": no `sources:` and the host's apt sources");
    }
    if (host->empty()) {
      return make_error(ErrorKind::NotFound,
                        spec.display_name + ": no `sources:` given and the host's apt sources (" +
                            (m_request.apt_root / "etc/apt").string() + ") have none for '" +
                            base.release + "'");
    }
    return std::move(host).value();
  }

  std::filesystem::path resolution_path(const std::string& key) const {
    return m_env.cache.dir() / "resolutions" / (key + ".json");
  }

  // A spec file's own `exclude` entries that name nothing in the sources, a
  // typo as a rule: the package meant still goes in. A warning, not an error:
  // a spec may be built for a release, or an architecture, that lacks one.
  // Said when the resolution is made (a cached one is not checked again), and
  // once per spec and architecture (`trace:` resolves a stage again).
  void warn_unknown_excludes(const Spec& spec, const debian::PackageIndex& index,
                             const std::string& arch) {
    // A built-in flavor's list holds what Debian may have, on purpose.
    if (spec.file.empty() ||
        !m_excludes_checked.insert(spec.where("exclude") + " " + arch).second) {
      return;
    }
    std::vector<std::string_view> names;  // the index's, once one is unknown
    for (const auto& name : spec.exclude) {
      if (!index.by_name(name).empty() || !index.providers(name).empty()) {
        continue;
      }
      if (names.empty()) {
        names = index.names();
      }
      m_env.progress.warn(spec.where("exclude") + ": exclude '" + name +
                          "' names no package of the sources for " + arch +
                          util::did_you_mean(util::nearest_name(name, names)));
    }
  }

  Result<std::vector<InstalledPackage>> resolve(const Spec& spec, const Stage& stage,
                                                const std::vector<std::string>& packages,
                                                const std::string& arch) {
    debian::ResolveRequest request;
    request.packages = packages;
    request.exclude = stage.exclude;
    request.arch = arch;
    for (const auto& p : stage.packages) {
      request.installed.emplace_back(p.name, p.version);
    }
    // A resolution is cached under its inputs and the Release files' bytes;
    // a warm build then neither decompresses nor parses a Packages index.
    std::string cache_key;
    if (!m_lock) {
      auto fingerprint = m_snapshot.fingerprint(stage.sources);
      if (fingerprint.ok()) {
        // The Date a resolution was made against goes into the provenance.
        for (const auto& [url, date] : m_snapshot.dates()) {
          std::string suite_url = url.substr(0, url.size() - std::strlen("InRelease"));
          if (m_release_dates.count(suite_url) == 0) {
            m_release_dates.emplace(std::move(suite_url), date);
          }
        }
        LayerKey key("resolution");
        key.add("releases", *fingerprint).add("sources", sources_key(stage.sources, arch));
        key.add("packages", join(request.packages, ",")).add("exclude", join(request.exclude, ","));
        for (const auto& [name, version] : request.installed) {
          key.add("installed", name + "=" + version);
        }
        cache_key = key.hex();
        if (auto memo = m_resolutions.find(cache_key); memo != m_resolutions.end()) {
          return memo->second;
        }
        auto text = util::read_file(resolution_path(cache_key));
        if (text.ok()) {
          auto cached = debian::parse_lock(*text, resolution_path(cache_key).string());
          if (cached.ok() && cached->packages.count(arch) != 0) {
            std::vector<InstalledPackage> out;
            for (const auto& locked : cached->packages[arch]) {
              m_locked[arch][locked.name] = locked;
              out.push_back(to_installed(locked));
            }
            m_resolutions[cache_key] = out;
            return out;
          }
        }
      }
    }
    m_env.progress.step(m_image_label + ": resolving " + spec.display_name + " for " + arch);
    DISTILL_TRY(const debian::PackageIndex* index, index_for(stage.sources, arch));
    auto resolved = debian::resolve(*index, request);
    if (!resolved.ok()) {
      return resolved.error().context(spec.display_name + " (" + arch + ")");
    }
    warn_unknown_excludes(spec, *index, arch);
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
      m_resolutions[cache_key] = out;
    }
    return out;
  }

  // Points `packages` at their files in the content cache.
  void locate(std::vector<InstalledPackage>& packages) const {
    for (auto& p : packages) {
      p.deb_file = m_env.cache.path_for(p.sha256);
    }
  }

  // Brings `packages` into the cache now (only `trace:` needs that while planning).
  Status download_now(std::vector<InstalledPackage>& packages) {
    std::vector<net::FetchItem> items;
    for (const auto& p : packages) {
      if (!m_env.cache.contains(p.sha256)) {
        items.push_back(fetch_item(p));
      }
    }
    if (!items.empty()) {
      DISTILL_CHECK(m_env.cache.fetch_all(m_env.http, items, 8, [&](const net::FetchProgress& fp) {
        m_env.progress.update("downloading", fp.items_done, fp.items_total, fp.bytes_done);
      }));
    }
    locate(packages);
    return {};
  }

  std::string epoch_time() const { return oci::format_rfc3339(m_request.source_date_epoch); }

  size_t package_node(std::vector<InstalledPackage> group) {
    LayerKey key("packages");
    key.add("epoch", m_request.source_date_epoch)
        .add("compression", archive::to_string(m_request.compression));
    std::vector<std::string> names;
    for (const auto& p : group) {
      // The version and architecture the index (or lock) claims are checked
      // against the .deb's control file only when the layer is made: in the
      // key, a claim the cached layer was not made with is a miss, checked
      // then, never an image whose annotations disagree with its files.
      key.add("package", p.name)
          .add("sha256", p.sha256.hex())
          .add("version", p.version)
          .add("arch", p.arch);
      names.push_back(p.name + " " + p.version);
    }
    LayerNode node;
    node.kind = LayerNode::Kind::Packages;
    node.key = key.hex();
    node.created_by = "distill: packages " + join(names, ", ");
    node.packages = std::move(group);
    return add_node(std::move(node));
  }

  Result<size_t> entries_node(std::string kind, std::string created_by,
                              std::vector<GeneratedEntry> entries) {
    DISTILL_TRY(auto fingerprint, entries_fingerprint(entries));
    LayerKey key(kind);
    key.add("compression", archive::to_string(m_request.compression)).add("entries", fingerprint);
    LayerNode node;
    node.kind = LayerNode::Kind::Entries;
    node.key = key.hex();
    node.created_by = std::move(created_by);
    node.entries = std::move(entries);
    return add_node(std::move(node));
  }

  void push_layer(Stage& stage, size_t node) {
    stage.layers.push_back(node);
    stage.history.push_back({epoch_time(), m_plan.nodes[node].created_by, "", false});
  }

  Status plan_stage(const Spec& spec, const std::string& arch, Stage& stage) {
    if (!spec.release.empty()) {
      stage.release = spec.release;  // check_agreement saw it agree with the base's
    } else if (stage.release.empty()) {
      stage.release = wanted_release(m_request);
    }
    const size_t base_layers = stage.layers.size();
    for (const auto& e : spec.exclude) {
      if (std::find(stage.exclude.begin(), stage.exclude.end(), e) == stage.exclude.end()) {
        stage.exclude.push_back(e);
      }
    }
    DISTILL_TRY(auto archives, archives_for(spec, arch));
    stage.archives.insert(stage.archives.end(), archives.begin(), archives.end());
    // Accounts first: `distill lock` refuses what `build` refuses.
    if (spec.users || spec.groups) {
      std::vector<Account> users;
      for (const auto& u : spec.users.value_or(std::vector<SpecUser>{})) {
        users.push_back({u.name, u.uid, u.gid, u.home, u.shell});
      }
      std::vector<Group> groups;
      for (const auto& g : spec.groups.value_or(std::vector<SpecGroup>{})) {
        groups.push_back({g.name, g.gid, g.members});
      }
      if (auto bad = accounts_problem(users, groups); !bad.empty()) {
        return make_error(ErrorKind::InvalidInput, spec.where("accounts") + ": " + bad);
      }
      stage.accounts = merge_accounts(stage.accounts, users, groups);
      DISTILL_CHECK(check_members(spec, stage.accounts));
    }
    std::vector<InstalledPackage> added;
    std::vector<size_t> package_nodes;
    if (!spec.packages.empty() || !spec.trace.empty()) {
      DISTILL_TRY(stage.sources, sources_for(spec, stage));
      DISTILL_TRY(added, resolve(spec, stage, spec.packages, arch));
      locate(added);
      if (!spec.trace.empty()) {
        DISTILL_TRY(added, trace_libraries(spec, stage, arch, std::move(added)));
      }
      m_fetch_order.push_back(added);
      if (!m_assemble) {
        stage.packages.insert(stage.packages.end(), added.begin(), added.end());
        sort_by_name(stage.packages);
        return {};
      }
      size_t reserved =
          1 + (spec.from.empty() ? 1 : 0) + ((spec.users || spec.groups) ? 1 : 0) + archives.size();
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
        package_nodes.push_back(package_node(std::move(members)));
      }
    } else if (!spec.sources.empty()) {
      stage.sources = to_apt_sources(spec);
    }
    if (!m_assemble) {
      return {};  // resolving only: what follows lays out layers
    }
    const int64_t epoch = m_request.source_date_epoch;
    // Layer order: the packages, then generated files, then the top.
    for (size_t node : package_nodes) {
      push_layer(stage, node);
    }
    if (spec.from.empty()) {
      DISTILL_TRY(auto node,
                  entries_node("generated", "distill: accounts, os-release, nsswitch, /tmp",
                               base_files(stage.accounts, stage.release, epoch)));
      push_layer(stage, node);
    } else if (spec.users || spec.groups) {
      DISTILL_TRY(auto node, entries_node("accounts", "distill: accounts",
                                          account_files(stage.accounts, epoch)));
      push_layer(stage, node);
    }
    // Archives and files are placed over the layers below (lower_tree.hpp).
    std::optional<LowerTree> lower;
    if (!archives.empty() || !spec.files.empty() || spec.expanded_files) {
      DISTILL_TRY(lower, lower_tree_of(stage.layers, stage.release, arch));
    }
    for (auto& archive : archives) {
      place_archive(archive, *lower, epoch);
      push_layer(stage, archive_node(archive));
    }
    stage.package_nodes.insert(stage.package_nodes.end(), package_nodes.begin(),
                               package_nodes.end());
    std::vector<InstalledPackage> chain = stage.packages;
    chain.insert(chain.end(), added.begin(), added.end());
    sort_by_name(chain);
    const size_t below_top = stage.layers.size();
    DISTILL_CHECK(plan_top(spec, arch, stage, added, chain, lower ? &*lower : nullptr));
    const LayerNode* top =
        stage.layers.size() > below_top ? &m_plan.nodes[stage.layers.back()] : nullptr;
    DISTILL_TRY(auto recorded, stage_provenance(spec, added, top, stage.layers.size() - 1));
    stage.recorded.push_back(std::move(recorded));
    bool had_ca = has_package(stage.packages, "ca-certificates");
    stage.packages = std::move(chain);
    apply_spec(stage.config, spec);
    if (has_package(added, "ca-certificates") && !had_ca) {
      set_env(stage.config.config.env, "SSL_CERT_FILE", "/" + std::string(k_ca_bundle));
    }
    return {};
  }

  // What the layers `below` hold, as far as placing files goes (no .deb
  // opened): merged /usr's links and the directories base-files ships other
  // than 0755 root, where base-files is installed; generated
  // files, the files and archive destinations of the stages below, an image
  // base's layers.
  Result<LowerTree> lower_tree_of(const std::vector<size_t>& below, const std::string& release,
                                  const std::string& arch) {
    LowerTree tree;
    for (size_t i : below) {
      const LayerNode& node = m_plan.nodes[i];
      switch (node.kind) {
        case LayerNode::Kind::Packages:
          if (has_package(node.packages, "base-files")) {
            LayerListing shipped;
            for (const auto& dir : debian::base_files_directories(release)) {
              shipped.paths.push_back({LayerListing::Kind::Directory, std::string(dir.path), "",
                                       dir.mode, dir.uid, dir.gid});
            }
            for (const auto& [name, target] : debian::merged_usr_links(release, arch)) {
              shipped.paths.push_back({LayerListing::Kind::Symlink, name, target, 0, 0, 0});
            }
            tree.add_layer(shipped);
          }
          break;
        case LayerNode::Kind::Entries:
        case LayerNode::Kind::Top:
          tree.add_layer(listing_of(node.entries));
          break;
        case LayerNode::Kind::Archive:
          tree.add_layer(listing_of(node.archive->dst_directories));
          break;
        case LayerNode::Kind::Base: {
          DISTILL_TRY(auto listing, layer_listing(*node.blob, m_env.cache.dir()));
          tree.add_layer(listing);
          break;
        }
        case LayerNode::Kind::Busybox:
          break;  // /busybox and its links
      }
    }
    return tree;
  }

  // An archive's dst placed over `lower`, which then holds it too.
  static void place_archive(ArchiveInput& archive, LowerTree& lower, int64_t epoch) {
    std::string placed = lower.resolve(archive.dst.substr(1), /*whole=*/true);
    if ("/" + placed != archive.dst) {
      archive.placed_dst = "/" + placed;
    }
    for (auto& dir : directories_over(placed, lower, epoch)) {
      archive.dst_directories.push_back(std::move(dir.entry));
    }
    lower.add_layer(listing_of(archive.dst_directories));
  }

  // A group's members must be users of the image (the chain's and this spec's;
  // on an image reference base the defaults', whose files replace the image's),
  // as groupadd and gpasswd refuse a member that does not exist.
  static Status check_members(const Spec& spec, const Accounts& accounts) {
    for (const auto& group : spec.groups.value_or(std::vector<SpecGroup>{})) {
      for (const auto& member : group.members) {
        bool known = std::any_of(accounts.users.begin(), accounts.users.end(),
                                 [&](const Account& a) { return a.name == member; });
        if (!known) {
          std::string where = spec.display_name +
                              (group.line > 0 ? ":" + std::to_string(group.line) : std::string());
          return make_error(ErrorKind::InvalidInput, where + ": member '" + member +
                                                         "' of group '" + group.name +
                                                         "' is not a user of the image");
        }
      }
    }
    return {};
  }

  // One layer on top for what the stage generates (ld.so.cache, trust
  // stores) and the spec's files, so a flavor chain stays within k_max_layers.
  // Its contents need the .debs; its key and history line do not.
  Status plan_top(const Spec& spec, const std::string& arch, Stage& stage,
                  const std::vector<InstalledPackage>& added,
                  const std::vector<InstalledPackage>& chain, const LowerTree* lower) {
    const int64_t epoch = m_request.source_date_epoch;
    LayerNode node;
    node.kind = LayerNode::Kind::Top;
    node.arch = arch;
    std::vector<std::string> what;
    bool has_ca = has_package(chain, "ca-certificates");
    if (!added.empty()) {
      node.system_files = true;
      if (has_package(chain, "libc6")) {
        what.emplace_back("ld.so.cache");
      }
      if (has_java_runtime(chain) && has_ca) {
        what.emplace_back("java cacerts");
      }
    }
    bool adds_certificates = false;
    if (spec.expanded_files) {
      node.entries = *spec.expanded_files;
    } else if (!spec.files.empty()) {
      DISTILL_TRY(node.entries, expand_spec_files(spec, epoch));
    }
    if (lower != nullptr && !node.entries.empty()) {
      place_over(node.entries, *lower, epoch);
    }
    if (!node.entries.empty()) {
      // Certificates added for update-ca-certificates (local_ca.hpp).
      DISTILL_TRY(auto certificates, local_certificates(node.entries));
      adds_certificates = !certificates.empty();
      stage.local_certificates =
          merge_local_certificates(std::move(stage.local_certificates), std::move(certificates));
      what.push_back("files of " + spec.record_name());
    }
    // The chain's private CAs: a new CA bundle and Java trust store where this
    // stage adds some or its packages would bring back the packages' ones.
    if (!stage.local_certificates.empty() &&
        must_regenerate_ca_files(stage.local_certificates, adds_certificates, added, chain) &&
        has_ca) {
      node.certificates = stage.local_certificates;
      size_t n = node.certificates.size();
      what.push_back("CA bundle with " + std::to_string(n) + " local certificate" +
                     (n == 1 ? "" : "s"));
    }
    if (what.empty()) {
      return {};
    }
    node.created_by = "distill: " + join(what, ", ");
    LayerKey key("top");
    key.add("compression", archive::to_string(m_request.compression))
        .add("epoch", epoch)
        .add("arch", arch)
        .add("what", node.created_by);
    DISTILL_TRY(node.entries_fingerprint, entries_fingerprint(node.entries));
    key.add("entries", node.entries_fingerprint);
    if (node.system_files || !node.certificates.empty()) {
      for (const auto& p : chain) {
        key.add("package", p.name).add("sha256", p.sha256.hex());
      }
    }
    for (const auto& c : node.certificates) {
      key.add("certificate", c.path).add("pem", c.pem);
    }
    node.key = key.hex();
    node.packages = chain;
    node.after = stage.package_nodes;
    push_layer(stage, add_node(std::move(node)));
    return {};
  }

  // The debug variants' busybox: Debian's busybox-static at /busybox/busybox.
  Status add_busybox(Stage& stage, const std::string& arch) {
    if (stage.sources.empty()) {
      DISTILL_TRY(stage.sources, debian::read_host_sources(m_request.apt_root, stage.release));
    }
    Spec busybox;
    busybox.display_name = "debug variant";
    Stage lookup = stage;
    lookup.packages.clear();
    DISTILL_TRY(auto resolved, resolve(busybox, lookup, {"busybox-static"}, arch));
    locate(resolved);
    auto it = std::find_if(resolved.begin(), resolved.end(),
                           [](const InstalledPackage& p) { return p.name == "busybox-static"; });
    if (it == resolved.end()) {
      return make_error(ErrorKind::NotFound,
                        "busybox-static: not found in the sources for " + arch);
    }
    InstalledPackage package = *it;
    m_fetch_order.push_back({package});
    LayerKey key("busybox");
    key.add("format", k_busybox_layer_format)
        .add("sha256", package.sha256.hex())
        .add("epoch", m_request.source_date_epoch)
        .add("compression", archive::to_string(m_request.compression));
    LayerNode node;
    node.kind = LayerNode::Kind::Busybox;
    node.key = key.hex();
    node.created_by = "distill: busybox-static " + package.version + " at /busybox";
    node.packages = {package};
    push_layer(stage, add_node(std::move(node)));
    stage.packages.push_back(package);
    sort_by_name(stage.packages);
    return {};
  }

  // The manifest's provenance record (provenance.hpp).
  std::string provenance(const SpecChain& chain, const Stage& stage, const std::string& arch,
                         Variant variant, const std::string& spec_digest) const {
    Provenance p;
    p.arch = arch;
    p.variant = to_string(variant);
    p.source_date_epoch = m_request.source_date_epoch;
    p.compression = archive::to_string(m_request.compression);
    p.image_base = chain.image_base.has_value();
    p.spec_digest = spec_digest;
    p.stages = stage.recorded;
    record_resolution(p, stage.sources, m_release_dates, stage.packages);
    return to_json(p);
  }

  void record_lock(debian::LockFile& lock, const Stage& stage, const std::string& arch) {
    for (const auto& s : stage.sources) {
      for (const auto& suite : s.suites) {
        std::string url = debian::suite_base_url(s, suite);
        if (auto date = m_release_dates.find(url); date != m_release_dates.end()) {
          lock.release_dates[url] = date->second;
        }
      }
      bool present = std::any_of(
          lock.sources.begin(), lock.sources.end(),
          [&](const debian::AptSource& a) { return a.url == s.url && a.suites == s.suites; });
      if (!present) {
        lock.sources.push_back(s);
      }
    }
    auto& packages = lock.packages[arch];
    for (const auto& p : stage.packages) {
      packages.push_back(locked_from(p, arch));
    }
    for (const auto& a : stage.archives) {
      lock.archives[arch].push_back(locked_archive(a));
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
    return same_package<debian::LockedPackage>(p);
  }

  // What determines resolution: the chain's package lists, excludes, sources,
  // release and architectures. --frozen compares it with the lock's.
  static Result<std::string> spec_digest(const SpecChain& chain,
                                         const std::vector<std::string>& archs) {
    LayerKey key("resolution");
    key.add("archs", join(archs, ","));
    for (auto spec = chain.specs.rbegin(); spec != chain.specs.rend(); ++spec) {
      key.add("packages", join(spec->packages, ",")).add("exclude", join(spec->exclude, ","));
      key.add("release", spec->release);
      for (const auto& s : spec->sources) {
        key.add("source", s.url + " " + join(s.suites, ",") + " " + join(s.components, ","));
      }
      key.add("from", spec->from);
      for (const auto& archive : spec->archives) {  // none: the digest of older locks
        for (const auto& d : archive.downloads) {
          key.add("archive", d.arch + " " + d.url + " " + d.sha256);
        }
      }
    }
    return key.hex();
  }

  // The spec's `archives:` that apply to `arch`: downloads for that arch or
  // for any. A group of downloads (an entry, or the entries sharing a name)
  // with none for `arch` is an error naming the archive and the arch.
  Result<std::vector<ArchiveInput>> archives_for(const Spec& spec, const std::string& arch) const {
    std::vector<ArchiveInput> out;
    std::map<std::string, std::pair<bool, std::string>> groups;  // covered?, where
    for (size_t i = 0; i < spec.archives.size(); ++i) {
      const SpecArchive& archive = spec.archives[i];
      std::string group = archive.name.empty() ? "#" + std::to_string(i) : archive.name;
      auto& [covered, where] = groups[group];
      if (where.empty()) {
        where =
            spec.display_name + ":" + std::to_string(archive.line) + ": archive " + archive.label();
      }
      for (const auto& download : archive.downloads) {
        if (download.arch.empty() || download.arch == arch) {
          ArchiveInput input = archive_input(archive, download);
          input.file = m_env.cache.path_for(input.sha256);
          input.origin = spec.display_name + ":" + std::to_string(download.line);
          out.push_back(std::move(input));
          covered = true;
        }
      }
    }
    for (const auto& [group, state] : groups) {
      if (!state.first) {
        return make_error(ErrorKind::NotFound,
                          state.second + " has no download for " + arch + " (`arch:`)");
      }
    }
    return out;
  }

  static net::FetchItem archive_fetch_item(const ArchiveInput& archive) {
    return {{archive.url}, archive.sha256, 0, archive.label()};
  }

  // An Archive node (one layer per archive), keyed by the archive's digest
  // and everything that shapes its entries.
  size_t archive_node(const ArchiveInput& input) {
    LayerKey key("archive");
    key.add("format", k_archive_layer_format)
        .add("sha256", input.sha256.hex())
        .add("url", input.url)
        .add("name", input.name)
        .add("version", input.version)
        .add("strip", static_cast<int64_t>(input.strip))
        .add("dst", input.dst)
        .add("include", join(input.include, "\n"))
        .add("exclude", join(input.exclude, "\n"))
        .add("uid", static_cast<int64_t>(input.uid))
        .add("gid", static_cast<int64_t>(input.gid))
        .add("mode", input.mode ? static_cast<int64_t>(*input.mode) : -1)
        .add("dir-mode", input.dir_mode ? static_cast<int64_t>(*input.dir_mode) : -1)
        .add("placed-dst", input.placed_dst)
        .add("epoch", m_request.source_date_epoch)
        .add("compression", archive::to_string(m_request.compression));
    for (const auto& dir : input.dst_directories) {
      key.add("dst-directory", dir.path)
          .add("mode", static_cast<int64_t>(dir.mode))
          .add("uid", static_cast<int64_t>(dir.uid))
          .add("gid", static_cast<int64_t>(dir.gid));
    }
    m_archive_downloads.push_back(archive_fetch_item(input));
    LayerNode node;
    node.kind = LayerNode::Kind::Archive;
    node.key = key.hex();
    node.created_by = "distill: " + input.label() + " at " + input.dst;
    node.archive = input;
    return add_node(std::move(node));
  }

  static debian::LockedArchive locked_archive(const ArchiveInput& archive) {
    return {archive.name, archive.version, archive.url, archive.sha256};
  }

  // --frozen: each architecture's archives are the lock's, no more, no less.
  Status check_locked_archives(const SpecChain& chain, const std::vector<std::string>& archs) {
    const std::string lock = m_request.lock_file.string();
    for (const auto& arch : archs) {
      std::vector<debian::LockedArchive> wanted;
      std::vector<std::string> where;
      for (const auto& spec : chain.specs) {
        DISTILL_TRY(auto archives, archives_for(spec, arch));
        for (const auto& a : archives) {
          wanted.push_back(locked_archive(a));
          where.push_back(a.origin);
        }
      }
      auto found = m_lock->archives.find(arch);
      const std::vector<debian::LockedArchive> none;
      const auto& locked = found == m_lock->archives.end() ? none : found->second;
      for (size_t i = 0; i < wanted.size(); ++i) {
        bool same = std::any_of(locked.begin(), locked.end(), [&](const debian::LockedArchive& l) {
          return l.url == wanted[i].url && l.sha256 == wanted[i].sha256;
        });
        if (!same) {
          return make_error(ErrorKind::InvalidInput,
                            lock + ": " + where[i] + ": archive " + wanted[i].url + " (sha256 " +
                                wanted[i].sha256.hex() + ") is not in the lock for " + arch +
                                " (--frozen); run `distill lock` again");
        }
      }
      for (const auto& l : locked) {
        bool same = std::any_of(wanted.begin(), wanted.end(), [&](const debian::LockedArchive& w) {
          return l.url == w.url && l.sha256 == w.sha256;
        });
        if (!same) {
          return make_error(ErrorKind::InvalidInput,
                            lock + ": archive " + l.url + " is locked for " + arch +
                                " but no longer in the spec (--frozen); run `distill lock` again");
        }
      }
    }
    return {};
  }

  // The ELF files (and symlinks) of `archives` as they will be in the image,
  // for `trace:`; the archives are downloaded (verified) now.
  Result<std::vector<ArchiveFile>> trace_archive_files(const std::vector<ArchiveInput>& archives) {
    std::vector<net::FetchItem> items;
    for (const auto& a : archives) {
      if (!m_env.cache.contains(a.sha256)) {
        items.push_back(archive_fetch_item(a));
      }
    }
    if (!items.empty()) {
      DISTILL_CHECK(m_env.cache.fetch_all(m_env.http, items, 4, [&](const net::FetchProgress& fp) {
        m_env.progress.update("downloading", fp.items_done, fp.items_total, fp.bytes_done);
      }));
    }
    std::vector<ArchiveFile> out;
    for (const auto& a : archives) {
      DISTILL_TRY(auto files, archive_elf_files(a, m_request.source_date_epoch));
      out.insert(out.end(), std::make_move_iterator(files.begin()),
                 std::make_move_iterator(files.end()));
    }
    return out;
  }

  // `trace:`: the shared libraries the listed ELF files need (recursively)
  // must be in the image; a missing soname is looked up in the archive's
  // Contents index and its package added through the resolver.
  Result<std::vector<InstalledPackage>> trace_libraries(const Spec& spec, const Stage& stage,
                                                        const std::string& arch,
                                                        std::vector<InstalledPackage> added) {
    std::string triplet = multiarch_triplet(arch);
    std::vector<std::string> extra;
    std::vector<InstalledPackage> base = stage.packages;
    DISTILL_CHECK(download_now(base));
    DISTILL_CHECK(download_now(added));
    DISTILL_TRY(auto archives, archives_for(spec, arch));
    DISTILL_TRY(auto archive_files, trace_archive_files(archives));
    // The spec's own files (a library shipped beside the program) count as
    // present, as an archive's do.
    DISTILL_TRY(auto shipped, spec_elf_files(spec, m_request.source_date_epoch));
    for (int round = 0; round < 8; ++round) {
      std::vector<InstalledPackage> all = base;
      all.insert(all.end(), added.begin(), added.end());
      DISTILL_TRY(auto missing, missing_libraries(spec, all, archive_files, shipped));
      if (missing.empty()) {
        return added;
      }
      if (m_soname_providers.count(arch) == 0) {
        m_env.progress.step(m_image_label + ": looking up " + missing.begin()->first +
                            " in the Contents index");
        DISTILL_TRY(auto providers,
                    debian::load_soname_providers(m_env.http, m_env.cache, stage.sources, arch,
                                                  fetching_options()));
        m_soname_providers[arch] = std::move(providers);
      }
      // A package added in an earlier round has been resolved and read since:
      // a library it was added for and still lacks is not in it. One package
      // may be added for several libraries in the same round (libc6 for both
      // ld-linux-x86-64.so.2 and libc.so.6).
      const auto earlier = static_cast<std::ptrdiff_t>(extra.size());
      for (const auto& [soname, needed_by] : missing) {
        auto candidates = debian::packages_for_soname(m_soname_providers[arch], soname, triplet);
        if (candidates.empty()) {
          return make_error(ErrorKind::NotFound, spec.where("trace") + ": " + needed_by +
                                                     " needs " + soname +
                                                     ", which no package in the sources provides");
        }
        if (std::find(extra.begin(), extra.begin() + earlier, candidates.front()) !=
            extra.begin() + earlier) {
          return make_error(ErrorKind::NotFound, spec.where("trace") + ": " + needed_by +
                                                     " needs " + soname + ", and package " +
                                                     candidates.front() + " did not provide it");
        }
        if (std::find(extra.begin() + earlier, extra.end(), candidates.front()) == extra.end()) {
          extra.push_back(candidates.front());
        }
      }
      std::vector<std::string> widened = spec.packages;
      widened.insert(widened.end(), extra.begin(), extra.end());
      m_env.progress.step(m_image_label + ": trace: adding " + join(extra, ", "));
      DISTILL_TRY(added, resolve(spec, stage, widened, arch));
      DISTILL_CHECK(download_now(added));
    }
    return make_error(ErrorKind::Internal,
                      spec.where("trace") + ": library closure did not settle");
  }

  // soname -> the file that needs it, for every library the trace roots need
  // (through the libraries' own DT_NEEDED) that neither an installed package,
  // nor an archive, nor the spec's `files:` (`shipped`) puts in the image.
  Result<std::map<std::string, std::string>> missing_libraries(
      const Spec& spec, const std::vector<InstalledPackage>& packages,
      const std::vector<ArchiveFile>& archive_files, const std::vector<ArchiveFile>& shipped) {
    std::map<std::string, const LibraryFile*> by_name;  // file name and soname
    std::vector<LibraryCatalog> catalogs;
    catalogs.reserve(packages.size());
    for (const auto& p : packages) {
      DISTILL_TRY(auto catalog, package_libraries(p, m_env.cache.dir()));
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
    // An archive's own libraries, and those of `files:`, count (by file name
    // or soname, wherever they are: found through a RUNPATH or $ORIGIN).
    for (const auto* files : {&archive_files, &shipped}) {
      for (const auto& archived : *files) {
        const LibraryFile& file = archived.file;
        by_name.emplace(file.path.substr(file.path.rfind('/') + 1), &file);
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
        auto archived =
            std::find_if(archive_files.begin(), archive_files.end(),
                         [&](const ArchiveFile& f) { return f.file.path == root && f.file.elf; });
        if (archived == archive_files.end()) {
          return make_error(ErrorKind::InvalidInput,
                            spec.where("trace:" + root) + ": " + root +
                                " is not a file added by this spec's `files:` or an ELF file "
                                "of its `archives:`");
        }
        if (!archived->interpreter.empty()) {
          queue.emplace_back(archived->interpreter.substr(archived->interpreter.rfind('/') + 1),
                             root);
        }
        for (const auto& needed : archived->file.needed) {
          queue.emplace_back(needed, root);
        }
        continue;
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

  const BuildRequest& m_request;
  BuildEnv& m_env;
  bool m_assemble;
  BuildPlan m_plan;
  std::map<std::string, size_t> m_node_index;  // key -> node
  std::string m_image_label;                   // the image being planned
  std::optional<debian::LockFile> m_lock;
  std::map<std::string, std::unique_ptr<debian::LoadedIndex>> m_indices;
  // What each resolved package looks like in a lock (with its relationships).
  std::map<std::string, std::map<std::string, debian::LockedPackage>> m_locked;
  std::map<std::string, debian::SonameProviders> m_soname_providers;  // by arch
  ReleaseSnapshot m_snapshot;  // the sources' Release files, as the mirror has them now
  std::map<std::string, std::string> m_release_dates;  // dists/SUITE/ URL -> Release Date
  std::map<std::string, std::vector<InstalledPackage>> m_resolutions;  // resolution key -> result
  std::set<std::string> m_excludes_checked;  // "FILE:LINE ARCH" of spec excludes checked
  // Every stage's packages, bases first, to download in that order.
  std::vector<std::vector<InstalledPackage>> m_fetch_order;
  std::vector<net::FetchItem> m_archive_downloads;  // of the Archive nodes
  std::set<crypto::Digest> m_fetch_seen;
};

}  // namespace

ImageIdentity image_identity(const BuildRequest& request, const std::string& spec_name,
                             const SpecChain& chain, Variant variant) {
  ImageIdentity id;
  const Spec& top = chain.specs.back();
  id.name = !request.name.empty() ? request.name : top.name;
  if (id.name.empty()) {
    id.name = std::filesystem::path(spec_name).stem().string();
  }
  id.tag = !request.tag.empty()         ? request.tag
           : variant == Variant::Latest ? std::string("latest")
                                        : to_string(variant);
  id.release = wanted_release(request);
  for (const auto& spec : chain.specs) {
    if (!spec.release.empty()) {
      id.release = spec.release;
    }
  }
  id.archs = !request.archs.empty() ? request.archs : top.archs;
  if (id.archs.empty()) {
    id.archs = {debian::host_architecture()};
  }
  return id;
}

std::string ImagePlan::label() const { return name + ":" + tag; }

std::string debian_tag(const std::string& release) {
  std::string id = debian::version_id(release);
  return "debian" + (id.empty() ? release : id);
}

Result<std::vector<NamedChain>> load_chains(const BuildRequest& request) {
  if (request.specs.empty()) {
    return make_error(ErrorKind::InvalidInput, "usage: no spec or flavor to build");
  }
  std::vector<NamedChain> chains;
  for (const auto& spec_name : request.specs) {
    DISTILL_TRY(SpecChain chain, load_chain(spec_name, wanted_release(request)));
    DISTILL_CHECK(check_agreement(chain, request));
    chains.push_back({spec_name, std::move(chain)});
  }
  return chains;
}

Result<BuildPlan> plan_build(const BuildRequest& request, BuildEnv& env, bool assemble) {
  DISTILL_TRY(auto chains, load_chains(request));
  return plan_chains(request, chains, env, assemble);
}

Result<BuildPlan> plan_chains(const BuildRequest& request, const std::vector<NamedChain>& chains,
                              BuildEnv& env, bool assemble) {
  Planner planner(request, env, assemble);
  return planner.run(chains);
}

}  // namespace distill::image
