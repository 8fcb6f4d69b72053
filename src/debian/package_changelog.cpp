// A binary package's changelog; see package_changelog.hpp.
#include "debian/package_changelog.hpp"

#include <map>

#include "archive/deb_reader.hpp"
#include "archive/decompress.hpp"
#include "util/file_io.hpp"

namespace distill::debian {

namespace {

constexpr std::string_view k_doc = "usr/share/doc/";
constexpr std::string_view k_file = "/changelog.Debian.gz";
// A native package (no Debian revision) ships its Debian changelog as this.
constexpr std::string_view k_native_file = "/changelog.gz";

// Appends to a string, failing past k_max_changelog (a decompression bomb).
class BoundedText final : public archive::ByteSink {
 public:
  explicit BoundedText(std::string origin) : m_origin(std::move(origin)) {}
  Status write(const void* data, size_t size) override {
    if (m_text.size() + size > k_max_changelog) {
      return make_error(ErrorKind::Corrupt, m_origin + ": inflates past " +
                                                std::to_string(k_max_changelog >> 20) + " MiB");
    }
    m_text.append(static_cast<const char*>(data), size);
    return {};
  }
  using ByteSink::write;
  Status finish() override { return {}; }
  std::string take() { return std::move(m_text); }

 private:
  std::string m_origin;
  std::string m_text;
};

// ".../doc/<dir>": the doc directory a symlink target names, if it is one.
std::string doc_dir_of(const std::string& target) {
  std::string t = target;
  if (t.rfind('/' + std::string(k_doc), 0) == 0) {
    t = t.substr(k_doc.size() + 1);
  }
  while (!t.empty() && t.back() == '/') {
    t.pop_back();
  }
  return t.find('/') == std::string::npos ? t : std::string();
}

// <hex>.txt holds the text; <hex>.none says the package has none.
std::filesystem::path cached_path(const net::ContentCache& cache, const crypto::Digest& sha256,
                                  bool found) {
  return cache.dir() / "changelogs" / (sha256.hex() + (found ? ".txt" : ".none"));
}

}  // namespace

bool is_native(std::string_view version) { return version.find('-') == std::string_view::npos; }

Result<PackageChangelog> read_deb_changelog(const std::filesystem::path& deb,
                                            const std::string& name, const std::string& version,
                                            const std::string& label) {
  const std::string_view wanted = is_native(version) ? k_native_file : k_file;
  DISTILL_TRY(auto reader, archive::DebReader::open(deb, label));
  std::map<std::string, std::string> gz;     // doc dir -> changelog.Debian.gz bytes
  std::map<std::string, std::string> links;  // doc dir -> symlink target dir
  DISTILL_CHECK(reader.for_each_data_entry(
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        if (entry.path.rfind(k_doc, 0) != 0) {
          return {};
        }
        std::string rest = entry.path.substr(k_doc.size());
        if (entry.type == archive::EntryType::Symlink && rest.find('/') == std::string::npos) {
          links[rest] = doc_dir_of(entry.link_target);
          return {};
        }
        size_t slash = rest.find('/');
        if (entry.type == archive::EntryType::File && slash != std::string::npos &&
            (rest.substr(slash) == k_file || rest.substr(slash) == wanted)) {
          if (entry.size > k_max_changelog) {
            return make_error(ErrorKind::Corrupt, label + ": " + entry.path + " is " +
                                                      std::to_string(entry.size) + " bytes");
          }
          // changelog.Debian.gz wins over a native package's changelog.gz.
          std::string& kept = gz[rest.substr(0, slash)];
          if (kept.empty() || rest.substr(slash) == k_file) {
            DISTILL_TRY(kept, content.read_all());
          }
        }
        return {};
      }));
  std::string dir = name;
  for (int hops = 0; gz.count(dir) == 0 && links.count(dir) != 0 && hops < 4; ++hops) {
    dir = links[dir];
  }
  PackageChangelog out;
  auto it = gz.find(dir);
  if (it == gz.end()) {
    out.note = dir != name ? "no changelog in the package (its doc directory links to " + dir + ")"
                           : "no changelog in the package";
    return out;
  }
  BoundedText text(label + ": " + std::string(k_doc) + dir + "/changelog");
  DISTILL_CHECK(archive::decompress_to(it->second, text,
                                       label + ": " + std::string(k_doc) + dir + "/changelog"));
  out.found = true;
  out.text = text.take();
  return out;
}

Result<std::vector<PackageChangelog>> package_changelogs(
    net::HttpClient& client, net::ContentCache& cache,
    const std::vector<const PackageRecord*>& records, unsigned jobs) {
  std::vector<PackageChangelog> out(records.size());
  std::vector<size_t> to_read;
  for (size_t i = 0; i < records.size(); ++i) {
    if (auto kept = util::read_file(cached_path(cache, records[i]->sha256, true)); kept.ok()) {
      out[i].found = true;
      out[i].text = std::move(*kept);
    } else if (std::error_code ec;
               std::filesystem::exists(cached_path(cache, records[i]->sha256, false), ec)) {
      out[i].note = "no changelog in the package";
    } else {
      to_read.push_back(i);
    }
  }
  std::vector<net::FetchItem> items;
  for (size_t i : to_read) {
    const PackageRecord& r = *records[i];
    items.push_back({{net::url_join(r.repo_url, r.filename)}, r.sha256, r.size, r.name});
  }
  DISTILL_CHECK(cache.fetch_all(client, items, jobs));
  std::error_code ec;
  std::filesystem::create_directories(cache.dir() / "changelogs", ec);
  for (size_t i : to_read) {
    const PackageRecord& r = *records[i];
    std::string label = r.name + "_" + r.version + "_" + r.arch;
    DISTILL_TRY(out[i], read_deb_changelog(cache.path_for(r.sha256), r.name, r.version, label));
    // Best effort: a changelog not kept is read from the .deb next time.
    (void)util::write_file_atomic(cached_path(cache, r.sha256, out[i].found), out[i].text);
  }
  return out;
}

}  // namespace distill::debian
