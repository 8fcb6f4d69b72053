// Package records and os-release of an image: see packages.hpp.
#include "check/packages.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "debian/control.hpp"
#include "image/archive_layer.hpp"
#include "util/text.hpp"

namespace distill::check {

namespace {

constexpr const char* k_status_d = "/var/lib/dpkg/status.d";
constexpr const char* k_status_file = "/var/lib/dpkg/status";

PackageRecord record_from(const debian::Paragraph& paragraph, const std::string& file) {
  PackageRecord record;
  record.name = std::string(debian::trim(paragraph.get("Package")));
  record.version = std::string(debian::trim(paragraph.get("Version")));
  record.arch = std::string(debian::trim(paragraph.get("Architecture")));
  record.maintainer = std::string(debian::trim(paragraph.get("Maintainer")));
  record.pre_depends = paragraph.get("Pre-Depends");
  record.depends = paragraph.get("Depends");
  record.provides = paragraph.get("Provides");
  record.status_file = file;
  // " /etc/x.conf <md5>[ obsolete]" a line.
  for (const std::string& line : util::split_lines(paragraph.get("Conffiles"))) {
    std::string_view path = debian::trim(line);
    path = path.substr(0, path.find(' '));
    if (!path.empty() && path.front() == '/') {
      record.conffiles.emplace_back(path);
    }
  }
  std::string source(debian::trim(paragraph.get("Source")));
  size_t paren = source.find('(');
  if (paren != std::string::npos) {
    size_t close = source.find(')', paren);
    record.source_version = std::string(debian::trim(std::string_view(source).substr(
        paren + 1, close == std::string::npos ? std::string::npos : close - paren - 1)));
    source = std::string(debian::trim(std::string_view(source).substr(0, paren)));
  }
  record.source = source;
  return record;
}

}  // namespace

std::vector<std::string> status_files(const ImageView& view) {
  std::vector<std::string> files;
  for (const auto& name : view.list_dir(k_status_d)) {
    const std::string path = std::string(k_status_d) + "/" + name;
    const FileInfo* info = view.stat(path);
    if (info == nullptr || !info->is_regular()) {
      continue;
    }
    if (name.size() >= 8 && name.compare(name.size() - 8, 8, ".md5sums") == 0) {
      continue;
    }
    files.push_back(path);
  }
  if (const FileInfo* info = view.stat(k_status_file); info != nullptr && info->is_regular()) {
    files.push_back(k_status_file);
  }
  return files;
}

namespace {

// Whether a layer's file is right in `dir`, not in a directory below it.
bool directly_in(std::string_view tar_path, std::string_view dir) {
  return tar_path.size() > dir.size() + 1 && tar_path.starts_with(dir) &&
         tar_path[dir.size()] == '/' &&
         tar_path.find('/', dir.size() + 1) == std::string_view::npos;
}

}  // namespace

bool is_package_record(std::string_view tar_path, bool file_lists) {
  if (tar_path == "var/lib/dpkg/status") {
    return true;
  }
  const bool file_list = tar_path.ends_with(".md5sums");
  if (directly_in(tar_path, "var/lib/dpkg/status.d")) {
    return file_lists || !file_list;
  }
  return file_lists && directly_in(tar_path, "var/lib/dpkg/info") &&
         (file_list || tar_path.ends_with(".list"));
}

bool is_archive_record(std::string_view tar_path) {
  return directly_in(tar_path, image::k_archive_records_dir) && tar_path.ends_with(".json");
}

Result<std::vector<PackageRecord>> parse_status_files(
    const std::map<std::string, std::string>& contents) {
  std::vector<PackageRecord> out;
  for (const auto& [path, text] : contents) {
    DISTILL_TRY(auto paragraphs, debian::parse_control(text, path));
    for (const auto& paragraph : paragraphs) {
      if (paragraph.find("Package") == nullptr) {
        continue;
      }
      // A classic status file lists removed packages too.
      std::string status = paragraph.get("Status");
      if (!status.empty() && status.find(" installed") == std::string::npos) {
        continue;
      }
      out.push_back(record_from(paragraph, path));
    }
  }
  std::sort(out.begin(), out.end(), [](const PackageRecord& a, const PackageRecord& b) {
    return a.name != b.name ? a.name < b.name : a.arch < b.arch;
  });
  return out;
}

Result<std::vector<PackageRecord>> installed_packages(const ImageView& view) {
  DISTILL_TRY(auto contents, view.read_files(status_files(view)));
  return parse_status_files(contents);
}

Result<std::vector<ArchiveRecord>> installed_archives(const ImageView& view) {
  const std::string dir = "/" + std::string(image::k_archive_records_dir);
  std::vector<std::string> files;
  for (const auto& name : view.list_dir(dir)) {
    const std::string path = dir + "/" + name;
    const FileInfo* info = view.stat(path);
    if (info != nullptr && info->is_regular() && name.size() > 5 &&
        name.compare(name.size() - 5, 5, ".json") == 0) {
      files.push_back(path);
    }
  }
  DISTILL_TRY(auto contents, view.read_files(files));
  std::vector<ArchiveRecord> out;
  for (const auto& [path, text] : contents) {
    try {
      auto json = nlohmann::json::parse(text);
      ArchiveRecord record;
      record.url = json.at("url").get<std::string>();
      record.sha256 = json.at("sha256").get<std::string>();
      record.dst = json.value("dst", std::string("/"));
      record.name = json.value("name", std::string());
      record.version = json.value("version", std::string());
      record.record_file = path;
      out.push_back(std::move(record));
    } catch (const nlohmann::json::exception& e) {
      return make_error(ErrorKind::Corrupt, path + ": not an archive record: " + e.what());
    }
  }
  std::sort(out.begin(), out.end(), [](const ArchiveRecord& a, const ArchiveRecord& b) {
    return a.url != b.url ? a.url < b.url : a.sha256 < b.sha256;
  });
  return out;
}

OsRelease read_os_release(const ImageView& view) {
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = view.read_file(path);
    if (text.ok()) {
      return parse_os_release(*text);
    }
  }
  return {};
}

}  // namespace distill::check
