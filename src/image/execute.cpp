#include "image/execute.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "archive/compressor.hpp"
#include "archive/tar_reader.hpp"
#include "image/archive_layer.hpp"
#include "image/background_fetch.hpp"
#include "image/busybox_layer.hpp"
#include "image/java_truststore.hpp"
#include "image/layer_cache.hpp"
#include "image/layer_writer.hpp"
#include "image/library_catalog.hpp"
#include "image/package_group.hpp"
#include "image/provenance.hpp"
#include "util/page_arena.hpp"
#include "util/thread_pool.hpp"

namespace distill::image {

namespace {

// What maintainer scripts would have generated from the packages of the
// whole chain: /etc/ld.so.cache (ldconfig) and the Java trust store
// (ca-certificates-java).
Result<std::vector<GeneratedEntry>> system_files(const std::vector<InstalledPackage>& packages,
                                                 const std::string& arch, int64_t epoch,
                                                 const std::filesystem::path& cache_dir) {
  std::vector<GeneratedEntry> entries;
  if (has_package(packages, "libc6")) {
    std::vector<LibraryCatalog> catalogs;
    catalogs.reserve(packages.size());
    for (const auto& p : packages) {
      DISTILL_TRY(auto catalog, package_libraries(p, cache_dir));
      catalogs.push_back(std::move(catalog));
    }
    DISTILL_TRY(auto cache, make_ld_so_cache(catalogs, multiarch_triplet(arch)));
    if (!cache.empty()) {
      entries.push_back(make_file("etc/ld.so.cache", std::move(cache), 0644, epoch));
    }
  }
  auto ca = std::find_if(packages.begin(), packages.end(),
                         [](const InstalledPackage& p) { return p.name == "ca-certificates"; });
  if (has_java_runtime(packages) && ca != packages.end()) {
    DISTILL_TRY(auto bundle, read_ca_bundle(*ca));
    DISTILL_TRY(auto store, make_java_truststore(bundle, epoch));
    entries.push_back(make_file("etc/ssl/certs/java/cacerts", std::move(store), 0644, epoch));
  }
  return entries;
}

// A stage's top layer: generated files, then the spec's own (which win at
// the same path), then the chain's private CAs (which the spec's own files
// still win over).
Result<std::vector<GeneratedEntry>> top_entries(const LayerNode& node, int64_t epoch,
                                                const std::filesystem::path& cache_dir) {
  std::vector<GeneratedEntry> top;
  if (node.system_files) {
    DISTILL_TRY(top, system_files(node.packages, node.arch, epoch, cache_dir));
  }
  std::set<std::string> own;
  for (const auto& e : node.entries) {
    own.insert(e.entry.path);
  }
  std::erase_if(top, [&](const GeneratedEntry& e) { return own.count(e.entry.path) != 0; });
  top.insert(top.end(), node.entries.begin(), node.entries.end());
  if (!node.certificates.empty()) {
    std::vector<std::string> what;
    DISTILL_TRY(auto ca_files, local_ca_files(node.packages, node.certificates, epoch, what));
    for (auto& f : ca_files) {
      if (own.count(f.entry.path) == 0) {
        std::erase_if(top, [&](const GeneratedEntry& e) { return e.entry.path == f.entry.path; });
        top.push_back(std::move(f));
      }
    }
  }
  complete_and_sort(top, epoch);
  top.erase(std::unique(top.begin(), top.end(),
                        [](const GeneratedEntry& a, const GeneratedEntry& b) {
                          return a.entry.path == b.entry.path;
                        }),
            top.end());
  return top;
}

// A layer's work, for ordering: the bytes it unpacks (.debs or archive),
// as the index gives them. Generated files are small.
uint64_t work_estimate(const LayerNode& node) {
  switch (node.kind) {
    case LayerNode::Kind::Packages:
    case LayerNode::Kind::Busybox: {
      uint64_t bytes = 0;
      for (const auto& p : node.packages) {
        bytes += p.size;
      }
      return bytes;
    }
    case LayerNode::Kind::Archive: {
      std::error_code ec;  // not downloaded yet: unknown, last
      uint64_t bytes = node.archive ? std::filesystem::file_size(node.archive->file, ec) : 0;
      return ec ? 0 : bytes;
    }
    default:
      return 0;
  }
}

class Executor {
 public:
  Executor(const BuildPlan& plan, const BuildRequest& request, BuildEnv& env, const LayerMade& made)
      : m_plan(plan),
        m_request(request),
        m_env(env),
        m_made(made),
        m_layers(env.cache.dir()),
        m_blobs(plan.nodes.size()),
        m_errors(plan.nodes.size()),
        m_users(plan.nodes.size()) {
    for (size_t image = 0; image < plan.images.size(); ++image) {
      for (const auto& arch : plan.images[image].archs) {
        for (size_t node : arch.layers) {
          auto& users = m_users.at(node);
          if (users.empty() || users.back() != image) {
            users.push_back(image);
          }
        }
      }
    }
  }

  Result<std::vector<oci::Image>> run() {
    std::vector<size_t> todo = cached_nodes();
    start_downloads(todo);
    const Status made = run_nodes(todo);
    // The layers made are recorded together (LayerCache::store_all), on the
    // pool while the images are assembled here; those of a build that
    // failed too, for the next to take.
    Status recorded;
    util::TaskGroup recording(m_env.pool);
    recording.submit([&] { recorded = m_layers.store_all(made_layers(todo)); });
    DISTILL_CHECK(made);
    std::vector<oci::Image> images;
    for (const auto& image : m_plan.images) {
      DISTILL_TRY(auto assembled, assemble(image));
      images.push_back(std::move(assembled));
    }
    recording.wait();
    DISTILL_CHECK(recorded);
    return images;
  }

 private:
  // The key and blob of every node of `todo` that was made.
  std::vector<std::pair<std::string, oci::LayerBlob>> made_layers(
      const std::vector<size_t>& todo) const {
    std::vector<std::pair<std::string, oci::LayerBlob>> layers;
    for (size_t i : todo) {
      if (m_blobs[i]) {
        layers.emplace_back(m_plan.nodes[i].key, *m_blobs[i]);
      }
    }
    return layers;
  }

  // Takes every node the layer cache holds; returns the others, to be made.
  std::vector<size_t> cached_nodes() {
    std::vector<size_t> todo;
    for (size_t i = 0; i < m_plan.nodes.size(); ++i) {
      const auto& node = m_plan.nodes[i];
      if (node.kind == LayerNode::Kind::Base) {
        m_blobs[i] = node.blob;
      } else if (auto cached = m_layers.lookup(node.key)) {
        m_blobs[i] = std::move(cached);
      } else {
        todo.push_back(i);
      }
    }
    return todo;
  }

  // Downloads what the nodes to be made read, in the plan's order: a layer
  // the cache holds needs none of its .debs (nor a top layer's packages).
  // Those present are read ahead (net/content_cache.hpp).
  void start_downloads(const std::vector<size_t>& todo) {
    std::set<crypto::Digest> needed;
    for (size_t i : todo) {
      const auto& node = m_plan.nodes[i];
      for (const auto& p : node.packages) {
        needed.insert(p.sha256);
      }
      if (node.archive) {
        needed.insert(node.archive->sha256);
      }
    }
    std::vector<net::FetchItem> items;
    for (const auto& item : m_plan.downloads) {
      if (needed.erase(item.sha256) != 0) {
        items.push_back(item);
      }
    }
    // The others are in the cache: read ahead, so that a layer's reads do not
    // wait on the disk where they were evicted from memory.
    for (const auto& digest : needed) {
      m_env.cache.read_ahead(digest);
    }
    if (items.empty()) {
      return;
    }
    m_fetching = std::make_unique<BackgroundFetch>(
        m_env.cache, m_env.http, std::move(items), std::max(4U, m_env.pool.size() * 2),
        [this](const net::FetchProgress& fp) {
          m_env.progress.update("downloading", fp.items_done, fp.items_total, fp.bytes_done);
        });
  }

  Status run_nodes(const std::vector<size_t>& todo) {
    const size_t n = m_plan.nodes.size();
    if (todo.empty()) {
      return {};
    }
    // Waiting counts over the nodes still to make; done ones count as met.
    m_waiting.assign(n, 0);
    m_dependents.assign(n, {});
    for (size_t i : todo) {
      for (size_t dep : m_plan.nodes[i].after) {
        if (!m_blobs[dep] && !needless_wait(m_plan.nodes[i], m_plan.nodes[dep])) {
          ++m_waiting[i];
          m_dependents[dep].push_back(i);
        }
      }
    }
    m_total = todo.size();
    m_work.assign(n, 0);
    m_total_work = 0;
    m_most_work = 0;
    for (size_t i : todo) {
      m_work[i] = work_estimate(m_plan.nodes[i]);
      m_total_work += m_work[i];
      m_most_work = std::max(m_most_work, m_work[i]);
    }
    util::TaskGroup group(m_env.pool);
    m_group = &group;
    // The ready nodes are picked before any runs: once one runs, its
    // dependents' counts change under m_mutex, and it submits those itself.
    std::vector<size_t> ready;
    for (size_t i : todo) {
      if (m_waiting[i] == 0) {
        ready.push_back(i);
      }
    }
    // The most work first: the largest layer (java17's JDK) bounds the build,
    // so it must not wait behind the small ones.
    std::stable_sort(ready.begin(), ready.end(),
                     [this](size_t a, size_t b) { return m_work[a] > m_work[b]; });
    submit(ready);
    group.wait();
    m_group = nullptr;
    // The buffers kept for more layers, and their pages, go while the
    // outputs are written rather than at the process's exit, on the critical
    // path, where the arena is on 4 KiB pages (util/page_arena.hpp); in two
    // tasks, for two threads: the xz dictionaries are half the pages. On huge
    // pages the exit frees them faster, after the outputs: giving them back
    // here made the end of a warm base build 0.5-0.6 ms longer.
    if (!util::arena_on_huge_pages()) {
      m_env.pool.submit([] {
        archive::release_kept_decoders();
        util::arena_release_free();
      });
      m_env.pool.submit([] {
        archive::release_kept_compressors();
        util::arena_release_free();
      });
    }
    for (size_t i : todo) {
      if (m_errors[i]) {
        const auto& node = m_plan.nodes[i];
        return m_errors[i]->context(node.image);
      }
    }
    if (m_stopped.load()) {
      return make_error(ErrorKind::Io, "interrupted");
    }
    return {};
  }

  // Queues the nodes' tasks at once (util/worker_pool.hpp).
  void submit(const std::vector<size_t>& nodes) {
    std::vector<std::function<void()>> tasks;
    tasks.reserve(nodes.size());
    for (size_t i : nodes) {
      tasks.emplace_back([this, i] { make(i); });
    }
    m_group->submit(std::move(tasks));
  }

  // Makes node `i`'s layer, then queues the nodes that waited only for it.
  void make(size_t i) {
    if (!m_cancelled.load() && m_env.stop_requested && m_env.stop_requested()) {
      m_stopped = true;
      m_cancelled = true;
    }
    std::optional<oci::LayerBlob> made;
    if (!m_cancelled.load()) {
      auto blob = make_layer(m_plan.nodes[i], compression_threads(i));
      std::lock_guard<std::mutex> lock(m_mutex);
      if (blob.ok()) {
        m_written += blob->descriptor.size;
        m_blobs[i] = std::move(blob).value();
        made = m_blobs[i];
      } else {
        m_errors[i] = blob.error();
        m_cancelled = true;
      }
    } else {
      m_cancelled = true;
    }
    std::vector<size_t> ready;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      ++m_done;
      m_env.progress.update("assembling layers", m_done, m_total, m_written);
      for (size_t d : m_dependents[i]) {
        if (--m_waiting[d] == 0) {
          ready.push_back(d);
        }
      }
    }
    submit(ready);  // a cancelled build runs them as no-ops, so the group drains
    if (made && m_made && !m_cancelled.load()) {
      for (size_t image : m_users[i]) {
        m_made(image, *made);
      }
    }
  }

  // Waits for a download, compressing other layers' chunks meanwhile
  // (util/worker_pool.hpp).
  Status await(const crypto::Digest& digest) {
    if (!m_fetching) {
      return {};
    }
    return m_fetching->wait(digest, [this] { return m_env.pool.help(); });
  }
  Status await(const std::vector<InstalledPackage>& packages) {
    for (const auto& p : packages) {
      DISTILL_CHECK(await(p.sha256));
    }
    return {};
  }

  // A stage's top layer waits for its package layers only for the library
  // catalogs they record on the way (ld.so.cache is made from them); where the
  // cache holds the catalog of every package of `dep` already, it need not
  // wait, and is made beside the other layers rather than after all of them.
  bool needless_wait(const LayerNode& node, const LayerNode& dep) const {
    if (node.kind != LayerNode::Kind::Top || dep.kind != LayerNode::Kind::Packages) {
      return false;
    }
    const auto cache_dir = m_env.cache.dir();
    return std::all_of(dep.packages.begin(), dep.packages.end(), [&](const InstalledPackage& p) {
      return has_package_libraries(p, cache_dir);
    });
  }

  unsigned compression_threads(size_t i) const {
    return compressing_threads(m_work[i], m_most_work, m_total_work,
                               m_request.jobs != 0 ? m_request.jobs : m_env.pool.size());
  }

  Result<oci::LayerBlob> make_layer(const LayerNode& node, unsigned threads) {
    const int64_t epoch = m_request.source_date_epoch;
    const auto cache_dir = m_env.cache.dir();
    DISTILL_TRY(auto writer, LayerWriter::create(m_layers.blob_dir(), m_request.compression,
                                                 threads, &m_env.pool));
    // Packages: unchanged packages of a grouped layer copied from its last
    // version (package_group.hpp).
    std::optional<PackageGroupWriter> group;
    switch (node.kind) {
      case LayerNode::Kind::Packages:
        group.emplace(m_layers, cache_dir, epoch, m_request.compression);
        DISTILL_CHECK(group->write(*writer, node.packages,
                                   [this](const InstalledPackage& p) { return await(p.sha256); }));
        break;
      case LayerNode::Kind::Busybox:
        DISTILL_CHECK(await(node.packages));
        DISTILL_CHECK(write_busybox_layer(*writer, node.packages.at(0), epoch));
        break;
      case LayerNode::Kind::Entries:
        for (const auto& e : node.entries) {
          DISTILL_CHECK(writer->add(e));
        }
        break;
      case LayerNode::Kind::Top: {
        DISTILL_CHECK(await(node.packages));  // a cached package layer did not wait
        DISTILL_TRY(auto entries, top_entries(node, epoch, cache_dir));
        for (const auto& e : entries) {
          DISTILL_CHECK(writer->add(e));
        }
        break;
      }
      case LayerNode::Kind::Archive:
        DISTILL_CHECK(await(node.archive->sha256));
        DISTILL_CHECK(write_archive_layer(*writer, *node.archive, epoch));
        break;
      case LayerNode::Kind::Base:
        return make_error(ErrorKind::Internal, "a base image's layer is not made");
    }
    DISTILL_TRY(auto blob, writer->finish());
    if (group) {
      group->record(node.key, blob);
    }
    return blob;
  }

  Result<oci::Image> assemble(const ImagePlan& image) {
    oci::Image out;
    for (const auto& arch : image.archs) {
      oci::ImageManifest manifest;
      manifest.platform = oci::platform_for_debian_arch(arch.arch);
      manifest.config = arch.config;
      manifest.config.architecture = manifest.platform.architecture;
      manifest.config.variant = manifest.platform.variant;
      manifest.config.os = manifest.platform.os;
      manifest.config.created = oci::format_rfc3339(m_request.source_date_epoch);
      manifest.config.history = arch.history;
      for (size_t node : arch.layers) {
        oci::LayerBlob layer = m_blobs.at(node).value();
        // What the layer holds (provenance.hpp); a base image's layer is
        // kind "base" and keeps the other annotations it came with.
        for (auto& [key, value] : layer_annotations(m_plan.nodes[node])) {
          layer.descriptor.annotations[key] = std::move(value);
        }
        manifest.layers.push_back(std::move(layer));
      }
      if (!arch.provenance.empty()) {
        manifest.annotations[std::string(k_provenance_annotation)] = arch.provenance;
      }
      out.manifests.push_back(std::move(manifest));
    }
    out.manifest_annotations = image.annotations;
    DISTILL_CHECK(oci::finalize(out));
    return out;
  }

  const BuildPlan& m_plan;
  const BuildRequest& m_request;
  BuildEnv& m_env;
  const LayerMade& m_made;
  LayerCache m_layers;
  std::vector<std::optional<oci::LayerBlob>> m_blobs;  // by node
  std::vector<std::optional<Error>> m_errors;          // by node
  std::vector<std::vector<size_t>> m_users;            // by node: the images using it
  std::vector<size_t> m_waiting;                       // unfinished nodes each waits for
  std::vector<std::vector<size_t>> m_dependents;
  std::mutex m_mutex;
  std::atomic<bool> m_cancelled{false};  // no new layer starts
  std::atomic<bool> m_stopped{false};    // ... because a stop was requested
  size_t m_done = 0;
  size_t m_total = 0;
  std::vector<uint64_t> m_work;  // by node: work_estimate() of the nodes to make
  uint64_t m_total_work = 0;
  uint64_t m_most_work = 0;
  uint64_t m_written = 0;  // compressed bytes, for the progress line
  util::TaskGroup* m_group = nullptr;
  // Last, so it is joined first: its thread uses the cache and HTTP client.
  std::unique_ptr<BackgroundFetch> m_fetching;
};

}  // namespace

unsigned compressing_threads(uint64_t work, uint64_t most, uint64_t total, unsigned cores) {
  const bool bounds_the_build = work == 0 || work >= most || work * cores >= total;
  return bounds_the_build ? std::max(1U, cores) : 1;
}

Result<std::vector<oci::Image>> execute(const BuildPlan& plan, const BuildRequest& request,
                                        BuildEnv& env, const LayerMade& made) {
  Executor executor(plan, request, env, made);
  return executor.run();
}

}  // namespace distill::image
