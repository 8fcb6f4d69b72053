#include "image/package_layer.hpp"

#include <algorithm>
#include <map>

#include "archive/deb_reader.hpp"
#include "debian/control.hpp"
#include "debian/relation.hpp"
#include "image/generated_files.hpp"
#include "image/library_catalog.hpp"
#include "image/package_control.hpp"

namespace distill::image {

namespace {

constexpr std::string_view k_ca_dir = "usr/share/ca-certificates/";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Keeps only documentation (copyright) of ca-certificates; its scripts and
// loose certificates are replaced by the generated bundle.
bool keep_ca_entry(const archive::TarEntry& entry) {
  return starts_with(entry.path, "usr/share/doc/") || entry.path == "usr/share/doc" ||
         entry.path == "usr/share" || entry.path == "usr";
}

// update-ca-certificates concatenates the certificates in sorted order.
std::string join_bundle(const std::map<std::string, std::string>& certificates) {
  size_t size = 0;
  for (const auto& [path, pem] : certificates) {
    size += pem.size() + 1;
  }
  std::string bundle;
  bundle.reserve(size);  // ~220 KB: grown by doubling, it was copied and faulted in eight times
  for (const auto& [path, pem] : certificates) {
    bundle += pem;
    if (!pem.empty() && pem.back() != '\n') {
      bundle += '\n';
    }
  }
  return bundle;
}

bool is_certificate(const archive::TarEntry& entry) {
  return entry.type == archive::EntryType::File && starts_with(entry.path, k_ca_dir) &&
         ends_with(entry.path, ".crt");
}

}  // namespace

Result<std::string> read_ca_bundle(const InstalledPackage& package) {
  DISTILL_TRY(auto deb, open_deb(package));
  std::map<std::string, std::string> certificates;
  DISTILL_CHECK(deb.for_each_data_entry(
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        if (is_certificate(entry)) {
          DISTILL_TRY(auto pem, content.read_all());
          certificates[entry.path] = std::move(pem);
        }
        return {};
      }));
  return join_bundle(certificates);
}

Status check_control_matches(const InstalledPackage& package, const std::string& control_text) {
  std::string label = package.name + "_" + package.version + "_" + package.arch + ".deb";
  if (!debian::is_valid_package_name(package.name)) {
    return make_error(ErrorKind::Corrupt, label + ": invalid package name");
  }
  DISTILL_TRY(auto paragraph, debian::parse_paragraph(control_text, label + ": control"));
  for (auto [field, expected] :
       {std::pair<const char*, const std::string*>{"Package", &package.name},
        {"Version", &package.version},
        {"Architecture", &package.arch}}) {
    std::string found = paragraph.get(field);
    // A field the index did not give (an older lock) has nothing to compare.
    if (!expected->empty() && found != *expected) {
      return make_error(ErrorKind::Corrupt, label + ": its control file says " + field + ": '" +
                                                found.substr(0, 80) + "', the index '" + *expected +
                                                "'");
    }
  }
  return {};
}

Status write_package(LayerWriter& layer, const InstalledPackage& package, int64_t epoch,
                     const std::filesystem::path& cache_dir, LibraryScanner* libraries) {
  DISTILL_TRY(auto deb, open_deb(package));
  DISTILL_TRY(auto control, package_control(package, deb, cache_dir));
  DISTILL_CHECK(check_control_matches(package, control.control));
  const bool is_ca = package.name == "ca-certificates";
  std::map<std::string, std::string> certificates;
  DISTILL_CHECK(deb.for_each_data_entry(
      [&](const archive::TarEntry& source, archive::ContentReader& content) -> Status {
        if (is_ca) {
          if (is_certificate(source)) {
            DISTILL_TRY(auto pem, content.read_all());
            certificates[source.path] = std::move(pem);
            return {};
          }
          if (!keep_ca_entry(source)) {
            return {};
          }
        }
        archive::TarEntry entry = source;
        entry.uid = 0;
        entry.gid = 0;
        entry.uname.clear();
        entry.gname.clear();
        if (entry.type != archive::EntryType::Directory) {
          DISTILL_CHECK(layer.add_parents(entry.path, epoch));
        }
        if (libraries != nullptr && libraries->wants(source)) {
          return libraries->add(
              source, content, package.name, [&](archive::ContentReader& bytes) -> Status {
                return layer.add(entry, entry.type == archive::EntryType::File ? &bytes : nullptr);
              });
        }
        return layer.add(entry, entry.type == archive::EntryType::File ? &content : nullptr);
      }));
  if (is_ca) {
    std::string path(k_ca_bundle);
    DISTILL_CHECK(layer.add_parents(path, epoch));
    DISTILL_CHECK(layer.add(make_file(path, join_bundle(certificates), 0644, epoch)));
  }
  std::string status_dir(k_status_dir);
  DISTILL_CHECK(layer.add_parents(status_dir + "/x", epoch));
  DISTILL_CHECK(
      layer.add(make_file(status_dir + "/" + package.name, control.control, 0644, epoch)));
  if (!control.md5sums.empty()) {
    DISTILL_CHECK(layer.add(
        make_file(status_dir + "/" + package.name + ".md5sums", control.md5sums, 0644, epoch)));
  }
  return {};
}

Result<archive::DebReader> open_deb(const InstalledPackage& package) {
  return archive::DebReader::open(package.deb_file, package.name, archive::Checksums::Skip);
}

bool has_package(const std::vector<InstalledPackage>& packages, std::string_view name) {
  return std::any_of(packages.begin(), packages.end(),
                     [&](const InstalledPackage& p) { return p.name == name; });
}

}  // namespace distill::image
