// Contents index scanning and loading; see contents_index.hpp.
#include "debian/contents_index.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "archive/byte_sink.hpp"
#include "archive/decompress.hpp"
#include "crypto/sha256.hpp"
#include "debian/control.hpp"
#include "debian/release.hpp"
#include "debian/release_fetch.hpp"
#include "util/file_io.hpp"
#include "util/thread_pool.hpp"

namespace distill::debian {

namespace {

constexpr size_t k_max_line = 64 * 1024;
constexpr std::string_view k_cache_header = "# distill soname providers v1\n";

constexpr std::array<std::string_view, 8> k_plain_lib_dirs = {
    "lib", "usr/lib", "lib64", "usr/lib64", "lib32", "usr/lib32", "libx32", "usr/libx32"};

// A multiarch triplet directory name: "x86_64-linux-gnu", "arm-linux-gnueabihf",
// "i386-gnu" (hurd), "x86_64-kfreebsd-gnu".
bool is_triplet(std::string_view name) {
  return !name.empty() && name.find('/') == std::string_view::npos &&
         (name.find("-linux-") != std::string_view::npos ||
          (name.size() > 4 && name.substr(name.size() - 4) == "-gnu"));
}

// The triplet of a "lib/<t>" or "usr/lib/<t>" directory, or "" when it is not one.
std::string_view multiarch_of(std::string_view dir) {
  for (std::string_view prefix : {std::string_view("lib/"), std::string_view("usr/lib/")}) {
    if (dir.substr(0, prefix.size()) == prefix && is_triplet(dir.substr(prefix.size()))) {
      return dir.substr(prefix.size());
    }
  }
  return {};
}

std::string_view dir_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view name_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Lower is better; -1 = not usable for `triplet`.
int rank_path(std::string_view path, std::string_view triplet) {
  std::string_view dir = dir_of(path);
  std::string_view arch = multiarch_of(dir);
  if (!arch.empty()) {
    if (arch == triplet) {
      return 0;
    }
    return triplet.empty() ? 6 : -1;
  }
  for (size_t i = 0; i < k_plain_lib_dirs.size(); ++i) {
    if (dir == k_plain_lib_dirs[i]) {
      return static_cast<int>(i < 4 ? i + 1 : 5);
    }
  }
  return 7;
}

// Feeds decompressed bytes to a ContentsScanner.
class ScannerSink final : public archive::ByteSink {
 public:
  explicit ScannerSink(ContentsScanner& scanner) : m_scanner(scanner) {}
  Status write(const void* data, size_t size) override {
    return m_scanner.feed(std::string_view(static_cast<const char*>(data), size));
  }
  using ByteSink::write;
  Status finish() override { return m_scanner.finish(); }

 private:
  ContentsScanner& m_scanner;
};

// One Contents file to fetch.
struct ContentsJob {
  std::string url;  // the plain path, for messages
  net::FetchItem item;
};

// The best-compressed Contents-<arch> listed under `dir` ("" = the suite root).
const std::pair<const std::string, ReleaseEntry>* pick_contents(const ReleaseFile& release,
                                                                const std::string& dir,
                                                                const std::string& arch) {
  for (const char* suffix : {".xz", ".gz", ""}) {
    auto it = release.sha256.find(dir + "Contents-" + arch + suffix);
    if (it != release.sha256.end()) {
      return &*it;
    }
  }
  return nullptr;
}

Result<ContentsJob> make_job(const std::string& base, const ReleaseFile& release,
                             const std::pair<const std::string, ReleaseEntry>& entry) {
  ContentsJob job;
  job.url = base + entry.first;
  auto digest = crypto::Digest::from_hex(entry.second.sha256);
  if (!digest.ok()) {
    return make_error(ErrorKind::Corrupt, base + "InRelease: bad SHA256 for " + entry.first);
  }
  job.item.sha256 = *digest;
  job.item.size = entry.second.size;
  job.item.label = entry.first;
  if (release.acquire_by_hash) {
    size_t slash = entry.first.rfind('/');
    std::string dir = slash == std::string::npos ? std::string() : entry.first.substr(0, slash + 1);
    job.item.urls.push_back(base + dir + "by-hash/SHA256/" + entry.second.sha256);
  }
  job.item.urls.push_back(job.url);
  return job;
}

}  // namespace

bool is_library_path(std::string_view path) {
  std::string_view name = name_of(path);
  if (name.find(".so") == std::string_view::npos) {
    return false;
  }
  std::string_view dir = dir_of(path);
  if (std::find(k_plain_lib_dirs.begin(), k_plain_lib_dirs.end(), dir) != k_plain_lib_dirs.end()) {
    return true;
  }
  return !multiarch_of(dir).empty();
}

void add_soname_provider(SonameProviders& out, std::string_view path,
                         std::vector<std::string> packages) {
  std::sort(packages.begin(), packages.end());
  packages.erase(std::unique(packages.begin(), packages.end()), packages.end());
  auto& entries = out.by_name[std::string(name_of(path))];
  auto it = std::lower_bound(entries.begin(), entries.end(), path,
                             [](const auto& entry, std::string_view p) { return entry.first < p; });
  if (it != entries.end() && it->first == path) {
    std::vector<std::string> merged;
    std::set_union(it->second.begin(), it->second.end(), packages.begin(), packages.end(),
                   std::back_inserter(merged));
    it->second = std::move(merged);
    return;
  }
  entries.emplace(it, std::string(path), std::move(packages));
}

Status ContentsScanner::line(std::string_view text) {
  ++m_line;
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  }
  // Cheap filter first: nearly every line of a Contents file is not a library.
  if (text.substr(0, 3) != "lib" && text.substr(0, 7) != "usr/lib" && text.substr(0, 4) != "/lib" &&
      text.substr(0, 8) != "/usr/lib") {
    return {};
  }
  size_t end = text.size();
  while (end > 0 && is_blank(text[end - 1])) {
    --end;
  }
  size_t start = end;
  while (start > 0 && !is_blank(text[start - 1])) {
    --start;
  }
  size_t path_end = start;
  while (path_end > 0 && is_blank(text[path_end - 1])) {
    --path_end;
  }
  if (start == 0 || path_end == 0) {
    return make_error(ErrorKind::Corrupt, m_origin + ":" + std::to_string(m_line) +
                                              ": no package list in '" +
                                              std::string(text.substr(0, 100)) + "'");
  }
  std::string_view path = text.substr(0, path_end);
  if (path.front() == '/') {
    path.remove_prefix(1);
  }
  if (!is_library_path(path)) {
    return {};
  }
  std::string_view locations = text.substr(start, end - start);
  std::vector<std::string> packages;
  while (!locations.empty()) {
    size_t comma = locations.find(',');
    std::string_view location = locations.substr(0, comma);
    locations = comma == std::string_view::npos ? std::string_view() : locations.substr(comma + 1);
    std::string_view package = name_of(location);
    if (!package.empty()) {
      packages.emplace_back(package);
    }
  }
  if (packages.empty()) {
    return make_error(ErrorKind::Corrupt, m_origin + ":" + std::to_string(m_line) +
                                              ": empty package list for " + std::string(path));
  }
  add_soname_provider(m_out, path, std::move(packages));
  return {};
}

Status ContentsScanner::feed(std::string_view chunk) {
  if (m_finished) {
    return make_error(ErrorKind::Internal, m_origin + ": Contents data after the end");
  }
  if (!m_carry.empty()) {
    size_t newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      m_carry.append(chunk);
      if (m_carry.size() > k_max_line) {
        return make_error(ErrorKind::Corrupt, m_origin + ":" + std::to_string(m_line + 1) +
                                                  ": line longer than 64 KiB");
      }
      return {};
    }
    m_carry.append(chunk.substr(0, newline));
    chunk.remove_prefix(newline + 1);
    DISTILL_CHECK(line(m_carry));
    m_carry.clear();
  }
  for (;;) {
    const void* found = std::memchr(chunk.data(), '\n', chunk.size());
    if (found == nullptr) {
      break;
    }
    size_t newline = static_cast<size_t>(static_cast<const char*>(found) - chunk.data());
    DISTILL_CHECK(line(chunk.substr(0, newline)));
    chunk.remove_prefix(newline + 1);
  }
  if (chunk.size() > k_max_line) {
    return make_error(ErrorKind::Corrupt,
                      m_origin + ":" + std::to_string(m_line + 1) + ": line longer than 64 KiB");
  }
  m_carry.assign(chunk);
  return {};
}

Status ContentsScanner::finish() {
  if (m_finished) {
    return {};
  }
  m_finished = true;
  if (!m_carry.empty()) {
    std::string last = std::move(m_carry);
    m_carry.clear();
    return line(last);
  }
  return {};
}

Status scan_contents(std::string_view text, SonameProviders& out, const std::string& origin) {
  ContentsScanner scanner(out, origin);
  DISTILL_CHECK(scanner.feed(text));
  return scanner.finish();
}

std::string serialize_soname_providers(const SonameProviders& providers) {
  std::string out(k_cache_header);
  for (const auto& [name, entries] : providers.by_name) {
    for (const auto& [path, packages] : entries) {
      out += path;
      out += '\t';
      for (size_t i = 0; i < packages.size(); ++i) {
        if (i > 0) {
          out += ',';
        }
        out += packages[i];
      }
      out += '\n';
    }
  }
  return out;
}

Result<SonameProviders> load_soname_providers(net::HttpClient& client, net::ContentCache& cache,
                                              const std::vector<AptSource>& sources,
                                              const std::string& arch,
                                              const RepositoryOptions& options) {
  unsigned jobs = std::max(1U, options.jobs);
  RepositoryOptions with_history = options;
  if (with_history.release_history.empty()) {
    with_history.release_history = cache.dir() / "release-dates";
  }
  struct Suite {
    const AptSource* source = nullptr;
    std::string base;
    std::optional<Result<ReleaseFile>> release;
  };
  std::vector<Suite> suites;
  for (const AptSource& source : sources) {
    if (!source.archs.empty() &&
        std::find(source.archs.begin(), source.archs.end(), arch) == source.archs.end()) {
      continue;
    }
    for (const std::string& suite : source.suites) {
      suites.push_back(Suite{&source, suite_base_url(source, suite), std::nullopt});
    }
  }
  util::parallel_for(suites.size(), jobs, [&](size_t i) {
    suites[i].release =
        fetch_verified_release(client, *suites[i].source, suites[i].base, with_history);
  });

  std::vector<ContentsJob> contents;
  std::string searched;
  for (const Suite& suite : suites) {
    if (!suite.release->ok()) {
      return suite.release->error();
    }
    const ReleaseFile& release = suite.release->value();
    std::vector<std::string> components = suite.source->components;
    if (components.empty()) {
      components.emplace_back("main");
    }
    bool used_root = false;
    for (const std::string& component : components) {
      const auto* entry = pick_contents(release, component + "/", arch);
      if (entry == nullptr && !used_root) {
        entry = pick_contents(release, "", arch);
        used_root = entry != nullptr;
      }
      if (entry != nullptr) {
        DISTILL_TRY(auto job, make_job(suite.base, release, *entry));
        contents.push_back(std::move(job));
      }
    }
    searched += (searched.empty() ? "" : ", ") + suite.base;
  }
  if (contents.empty()) {
    return make_error(ErrorKind::NotFound,
                      "no Contents-" + arch + " index in " +
                          (searched.empty() ? std::string("any source") : searched));
  }

  // The scan result is cached under a key naming every index it came from.
  std::vector<std::string> digests;
  for (const ContentsJob& job : contents) {
    digests.push_back(job.item.sha256.hex());
  }
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  std::string key_text(k_cache_header);
  for (const std::string& digest : digests) {
    key_text += digest + "\n";
  }
  std::filesystem::path parsed_path =
      cache.dir() / "contents" / (crypto::sha256(key_text).hex() + ".txt");
  std::error_code ec;
  if (std::filesystem::is_regular_file(parsed_path, ec)) {
    auto text = util::read_file(parsed_path);
    if (text.ok() && text->substr(0, k_cache_header.size()) == k_cache_header) {
      SonameProviders cached;
      if (scan_contents(*text, cached, parsed_path.string()).ok()) {
        return cached;
      }
    }
    // An unreadable or damaged entry is rebuilt below.
  }

  std::vector<net::FetchItem> items;
  items.reserve(contents.size());
  for (const ContentsJob& job : contents) {
    items.push_back(job.item);
  }
  DISTILL_CHECK(cache.fetch_all(client, items, jobs));

  SonameProviders providers;
  for (const ContentsJob& job : contents) {
    ContentsScanner scanner(providers, job.url);
    ScannerSink sink(scanner);
    Status status = archive::decompress_file(cache.path_for(job.item.sha256), sink);
    if (!status.ok()) {
      return std::move(status).error().context(job.url);
    }
  }

  // Failing to store the parsed copy only costs a rescan next time.
  std::filesystem::create_directories(parsed_path.parent_path(), ec);
  if (!ec) {
    (void)util::write_file_atomic(parsed_path, serialize_soname_providers(providers));
  }
  return providers;
}

std::vector<std::string> packages_for_soname(const SonameProviders& providers,
                                             const std::string& soname,
                                             const std::string& triplet) {
  auto it = providers.by_name.find(soname);
  if (it == providers.by_name.end()) {
    return {};
  }
  std::vector<std::pair<int, const std::pair<std::string, std::vector<std::string>>*>> ranked;
  for (const auto& entry : it->second) {
    int rank = rank_path(entry.first, triplet);
    if (rank >= 0) {
      ranked.emplace_back(rank, &entry);
    }
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->first < b.second->first;
  });
  std::vector<std::string> packages;
  for (const auto& [rank, entry] : ranked) {
    for (const std::string& package : entry->second) {
      if (std::find(packages.begin(), packages.end(), package) == packages.end()) {
        packages.push_back(package);
      }
    }
  }
  return packages;
}

}  // namespace distill::debian
