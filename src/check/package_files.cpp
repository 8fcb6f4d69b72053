// package_file_owners: see package_files.hpp.
#include "check/package_files.hpp"

#include <set>

#include "util/text.hpp"

namespace distill::check {

namespace {

constexpr std::string_view k_status_dir = "/var/lib/dpkg/status.d/";
constexpr std::string_view k_info_dir = "/var/lib/dpkg/info/";

// The candidate file lists of one package, best first.
std::vector<std::string> list_files(const PackageRecord& package) {
  if (package.status_file.rfind(k_status_dir, 0) == 0) {
    return {package.status_file + ".md5sums"};
  }
  std::string dir(k_info_dir);
  std::string qualified = package.name + ":" + package.arch;
  return {dir + qualified + ".list", dir + package.name + ".list", dir + qualified + ".md5sums",
          dir + package.name + ".md5sums"};
}

// The absolute paths in a .list ("/usr/bin/x") or md5sums ("<md5>  usr/bin/x") file.
std::vector<std::string> listed_paths(const std::string& file, const std::string& text) {
  bool md5sums = file.size() > 8 && file.compare(file.size() - 8, 8, ".md5sums") == 0;
  std::vector<std::string> out;
  for (std::string line : util::split_lines(text)) {
    if (md5sums) {
      size_t space = line.find(' ');
      if (space == std::string::npos) {
        continue;
      }
      line = line.substr(line.find_first_not_of(' ', space) == std::string::npos
                             ? line.size()
                             : line.find_first_not_of(' ', space));
    }
    if (line.empty() || line == "/." || line == ".") {
      continue;
    }
    out.push_back(line[0] == '/' ? line : "/" + line);
  }
  return out;
}

}  // namespace

Result<std::map<std::string, size_t>> package_file_owners(
    const ImageView& view, const std::vector<PackageRecord>& packages,
    const std::vector<bool>& package_layers) {
  std::vector<std::string> wanted;
  for (const auto& package : packages) {
    for (auto& file : list_files(package)) {
      wanted.push_back(std::move(file));
    }
  }
  DISTILL_TRY(auto lists, view.read_files(wanted));

  std::map<std::string, size_t> owners;
  auto own = [&](const std::string& path, size_t index) {
    const FileInfo* info = view.lstat(path);
    if (info != nullptr && !info->is_dir()) {
      owners.emplace(path, index);  // the first claim wins (shared paths are rare)
    }
  };
  // The package layers' status entries: which packages each one carries.
  std::map<size_t, std::set<size_t>> packages_of_layer;
  for (size_t i = 0; i < packages.size(); ++i) {
    const PackageRecord& package = packages[i];
    for (const auto& file : list_files(package)) {
      auto found = lists.find(file);
      if (found == lists.end()) {
        continue;
      }
      for (const auto& path : listed_paths(file, found->second)) {
        own(path, i);
      }
      own(file, i);
      break;
    }
    for (const auto& conffile : package.conffiles) {
      own(conffile, i);
    }
    if (package.status_file.rfind(k_status_dir, 0) == 0) {
      own(package.status_file, i);
      if (const FileInfo* info = view.lstat(package.status_file); info != nullptr) {
        packages_of_layer[info->layer].insert(i);
      }
    }
  }
  // Another tool's layer holds only its package's files when every regular
  // file in it is a package's (a layer per package, as Bazel builds
  // distroless); one with a file no list names may hold a whole root.
  std::set<size_t> layers_with_others;
  for (const auto& [path, info] : view.files()) {
    if (info.is_regular() && owners.count(path) == 0) {
      layers_with_others.insert(info.layer);
    }
  }
  auto holds_only_packages = [&](size_t layer) {
    return (layer < package_layers.size() && package_layers[layer]) ||
           layers_with_others.count(layer) == 0;
  };
  for (const auto& [path, info] : view.files()) {
    if (info.is_dir() || owners.count(path) != 0) {
      continue;
    }
    auto layer = packages_of_layer.find(info.layer);
    if (layer != packages_of_layer.end() && layer->second.size() == 1 &&
        holds_only_packages(info.layer)) {
      owners.emplace(path, *layer->second.begin());
    }
  }
  return owners;
}

}  // namespace distill::check
