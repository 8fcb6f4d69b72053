// Fetching and verifying apt repository metadata; see repository.hpp.
#include "debian/repository.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include "archive/async_sink.hpp"
#include "archive/decompress.hpp"
#include "archive/stream_decompressor.hpp"
#include "debian/release.hpp"
#include "debian/release_fetch.hpp"
#include "util/file_io.hpp"
#include "util/thread_pool.hpp"

namespace distill::debian {

namespace {

// One dists/<suite> of one source.
struct SuiteJob {
  const AptSource* source = nullptr;
  std::string suite;
  std::string base;  // <url>/dists/<suite>/
  std::optional<Result<ReleaseFile>> release;
};

// One Packages file to fetch and parse.
struct IndexJob {
  const SuiteJob* suite = nullptr;
  std::string component;
  std::string url;  // the plain path, for messages
  net::FetchItem item;
  uint64_t max_size = 0;  // of the uncompressed text
};

// How much a Packages file may inflate to: the size the signed Release gives
// the uncompressed file, else a generous multiple of the compressed one (text
// indexes compress 4-6 times). Decoding stops there, so a hostile mirror (or a
// man in the middle of plain http) cannot feed more than that.
constexpr uint64_t k_max_inflation = 32;
uint64_t index_max_size(const ReleaseFile& release, const std::string& dir,
                        const ReleaseEntry& picked) {
  auto plain = release.sha256.find(dir + "/Packages");
  if (plain != release.sha256.end()) {
    return plain->second.size;
  }
  return picked.size * k_max_inflation + (uint64_t{1} << 20);
}

// Picks the Packages file to fetch for `dir` (".../binary-<arch>"): gzip before
// xz, unlike apt. The gzip file is about a third larger (12 MB against 9 MB for
// bookworm main) but inflates in a tenth of the time xz takes (0.1 s against
// 0.85 s here), and decompression, not the transfer, dominates a cold build.
const std::pair<const std::string, ReleaseEntry>* pick_index(const ReleaseFile& release,
                                                             const std::string& dir) {
  for (const char* suffix : {"/Packages.gz", "/Packages.xz", "/Packages"}) {
    auto it = release.sha256.find(dir + suffix);
    if (it != release.sha256.end()) {
      return &*it;
    }
  }
  return nullptr;
}

// Inflates and scans a Packages file while it downloads (a net::FetchTap): on
// a cold build the transfer and the decoding then overlap instead of taking
// turns. Nothing made here is used unless the download verified; a restarted
// transfer or any decoding error just means the loader reads the cached file
// instead, as it does on a cache hit, and reports errors from there.
class StreamedIndex final : public net::FetchTap {
 public:
  StreamedIndex(std::string url, size_t expected_size, uint64_t max_size)
      : m_url(std::move(url)), m_expected_size(expected_size), m_max_size(max_size) {}

  void restart() override { m_broken = m_broken || m_started; }

  void write(std::string_view data) override {
    if (m_broken) {
      return;
    }
    if (!m_started) {
      m_started = true;
      m_text.emplace(m_url, m_expected_size, m_max_size);
      m_scanner.emplace(*m_text);
      // The download is hashed against the signed Release before anything
      // made here is used (take()): the gzip CRC would add nothing.
      m_decoder.emplace(*m_scanner, m_url, archive::Checksums::Skip);
    }
    m_broken = !m_decoder->write(data).ok();
  }

  // The scanned text, when the whole verified download came through cleanly.
  std::optional<PackagesText> take() {
    if (!m_started || m_broken || !m_decoder->finish().ok()) {
      return std::nullopt;
    }
    return std::move(*m_text);
  }

 private:
  std::string m_url;
  size_t m_expected_size;
  uint64_t m_max_size;
  bool m_started = false;
  bool m_broken = false;
  // In this order: the decoder writes to the scanner, the scanner to the text.
  std::optional<PackagesText> m_text;
  std::optional<archive::AsyncSink> m_scanner;
  std::optional<archive::StreamDecompressor> m_decoder;
};

}  // namespace

Result<LoadedIndex> load_repositories(net::HttpClient& client, net::ContentCache& cache,
                                      const std::vector<AptSource>& sources,
                                      const std::string& arch, const RepositoryOptions& options) {
  unsigned jobs = std::max(1U, options.jobs);
  RepositoryOptions with_history = options;
  if (with_history.release_history.empty()) {
    with_history.release_history = cache.dir() / "release-dates";
  }
  std::vector<SuiteJob> suites;
  for (const AptSource& source : sources) {
    if (!source.archs.empty() &&
        std::find(source.archs.begin(), source.archs.end(), arch) == source.archs.end()) {
      continue;
    }
    for (const std::string& suite : source.suites) {
      SuiteJob job;
      job.source = &source;
      job.suite = suite;
      job.base = suite_base_url(source, suite);
      suites.push_back(std::move(job));
    }
  }

  util::parallel_for(suites.size(), jobs, [&](size_t i) {
    suites[i].release =
        fetch_verified_release(client, *suites[i].source, suites[i].base, with_history);
  });

  std::vector<IndexJob> indexes;
  for (const SuiteJob& job : suites) {
    if (!job.release->ok()) {
      return job.release->error();
    }
    const ReleaseFile& release = job.release->value();
    std::vector<std::string> components = job.source->components;
    if (components.empty()) {
      components.emplace_back("main");
    }
    for (const std::string& component : components) {
      std::string arch_dir = component;
      arch_dir += "/binary-";
      arch_dir += arch;
      std::vector<std::string> dirs = {arch_dir};
      // Like apt: a separate binary-all index only when the Release lists the
      // "all" architecture and does not say arch-all packages are already in
      // every binary-<arch> index.
      bool lists_all = std::find(release.architectures.begin(), release.architectures.end(),
                                 "all") != release.architectures.end();
      if (lists_all && !release.all_in_arch_indexes) {
        dirs.push_back(component + "/binary-all");
      }
      bool found_arch = false;
      for (const std::string& dir : dirs) {
        const auto* entry = pick_index(release, dir);
        if (entry == nullptr) {
          continue;
        }
        found_arch = found_arch || dir == dirs.front();
        IndexJob index;
        index.suite = &job;
        index.component = component;
        index.url = job.base + entry->first;
        auto digest = crypto::Digest::from_hex(entry->second.sha256);
        if (!digest.ok()) {
          return make_error(ErrorKind::Corrupt,
                            job.base + "InRelease: bad SHA256 for " + entry->first);
        }
        index.item.sha256 = *digest;
        index.item.size = entry->second.size;
        index.item.label = entry->first;
        index.max_size = index_max_size(release, dir, entry->second);
        if (release.acquire_by_hash) {
          size_t slash = entry->first.rfind('/');
          index.item.urls.push_back(job.base + entry->first.substr(0, slash) + "/by-hash/SHA256/" +
                                    entry->second.sha256);
        }
        index.item.urls.push_back(index.url);
        indexes.push_back(std::move(index));
      }
      if (!found_arch) {
        std::string message = job.base;
        message += "InRelease: no Packages index for ";
        message += arch_dir;
        message += " (";
        message += job.source->origin;
        message += ")";
        return make_error(ErrorKind::NotFound, message);
      }
    }
  }

  std::vector<net::FetchItem> items;
  std::vector<std::unique_ptr<StreamedIndex>> streams;
  items.reserve(indexes.size());
  for (const IndexJob& index : indexes) {
    streams.push_back(
        std::make_unique<StreamedIndex>(index.url, index.item.size * 4, index.max_size));
    items.push_back(index.item);
    items.back().tap = streams.back().get();
  }
  DISTILL_CHECK(cache.fetch_all(client, items, jobs));

  // Decompressed and compacted in parallel, streaming (the whole text is
  // never held); records are made on lookup (see PackageIndex). Inflating and
  // scanning one index take about as long as each other, so they run on two
  // threads: the big main index is the critical path of a cold build.
  std::vector<std::optional<Result<PackagesText>>> texts(indexes.size());
  util::parallel_for(indexes.size(), jobs, [&](size_t i) {
    const IndexJob& index = indexes[i];
    auto read = [&]() -> Result<PackagesText> {
      if (auto streamed = streams[i]->take()) {
        return std::move(*streamed);
      }
      DISTILL_TRY(auto data, util::read_file(cache.path_for(index.item.sha256)));
      PackagesText text(index.url, data.size() * 4, index.max_size);
      archive::AsyncSink scanner(text);
      DISTILL_CHECK(archive::decompress_to(data, scanner, index.url));
      return text;
    };
    texts[i] = read();
  });

  LoadedIndex loaded;
  for (size_t i = 0; i < indexes.size(); ++i) {
    IndexJob& index = indexes[i];
    if (!texts[i]->ok()) {
      return texts[i]->error();
    }
    IndexOrigin origin{index.url, index.suite->source->url, index.suite->suite, index.component};
    loaded.index.add(std::move(*texts[i]).value(), std::move(origin));
    texts[i].reset();
    loaded.index_digests.push_back(index.item.sha256.str());
  }
  std::sort(loaded.index_digests.begin(), loaded.index_digests.end());
  loaded.index_digests.erase(std::unique(loaded.index_digests.begin(), loaded.index_digests.end()),
                             loaded.index_digests.end());
  return loaded;
}

}  // namespace distill::debian
