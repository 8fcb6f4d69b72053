// See archive_layer.hpp.
#include "image/archive_layer.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/entry_containment.hpp"
#include "archive/tar_reader.hpp"
#include "elf/elf_reader.hpp"
#include "image/generated_files.hpp"
#include "image/spec.hpp"

namespace distill::image {

namespace {

// `path` without its first `strip` components; nullopt when nothing is left.
std::optional<std::string> strip_components(const std::string& path, uint32_t strip) {
  size_t pos = 0;
  for (uint32_t i = 0; i < strip; ++i) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) {
      return std::nullopt;
    }
    pos = slash + 1;
  }
  return path.substr(pos);
}

// Whether a glob matches `path` or one of its parent directories.
bool matches(const std::vector<std::string>& globs, const std::string& path) {
  for (const auto& glob : globs) {
    std::string candidate = path;
    for (;;) {
      if (::fnmatch(glob.c_str(), candidate.c_str(), 0) == 0) {
        return true;
      }
      size_t slash = candidate.rfind('/');
      if (slash == std::string::npos) {
        break;
      }
      candidate.resize(slash);
    }
  }
  return false;
}

}  // namespace

std::string ArchiveInput::label() const {
  std::string who = name.empty() ? "" : name + (version.empty() ? "" : " " + version) + " ";
  return "archive " + (who.empty() ? url : who + "(" + url + ")");
}

ArchiveInput archive_input(const SpecArchive& archive, const SpecArchiveDownload& download) {
  ArchiveInput in;
  in.name = archive.name;
  in.version = archive.version;
  in.url = download.url;
  auto digest = crypto::Digest::from_hex(download.sha256);
  if (digest.ok()) {
    in.sha256 = *digest;  // the spec parser checked it
  }
  in.strip = archive.strip;
  in.dst = archive.dst;
  in.include = archive.include;
  in.exclude = archive.exclude;
  in.uid = archive.uid;
  in.gid = archive.gid;
  in.mode = archive.mode;
  in.dir_mode = archive.dir_mode;
  return in;
}

Status for_each_archive_entry(
    const ArchiveInput& input, int64_t epoch,
    const std::function<Status(const archive::TarEntry&, archive::ContentReader&)>& fn) {
  const std::string label = input.label();
  const std::string prefix = input.dst == "/" ? "" : input.dst.substr(1) + "/";
  archive::EntryContainment containment(label, "an archive");
  // Stripped paths written: their type, for hard links, for entries given
  // twice and for entries below a file or symlink of the archive.
  std::map<std::string, archive::EntryType> kept;
  std::set<std::string> parents;  // directories that kept entries are inside
  // Symlinks written (image path -> target) and their archive paths, judged
  // once the archive is read: a link may pass through one that comes later.
  std::map<std::string, std::string> links;
  std::vector<std::pair<std::string, std::string>> link_sources;
  auto refuse = [&label](const std::string& path, const std::string& what) {
    return make_error(ErrorKind::Corrupt, label + ": " + path + ": " + what);
  };
  auto name = [](archive::EntryType type) {
    return type == archive::EntryType::Symlink ? "a symlink" : "a file";
  };
  DISTILL_CHECK(archive::for_each_tar_entry(
      input.file,
      [&](const archive::TarEntry& source, archive::ContentReader& content) -> Status {
        DISTILL_CHECK(containment.check(source));
        auto stripped = strip_components(source.path, input.strip);
        if (!stripped || stripped->empty()) {
          return {};  // above the stripped level, like tar --strip-components
        }
        if ((!input.include.empty() && !matches(input.include, *stripped)) ||
            matches(input.exclude, *stripped)) {
          return {};
        }
        if (auto problem = archive::layer_path_problem(*stripped); !problem.empty()) {
          return refuse(source.path, problem);
        }
        // One path, one entry: what tar -x makes of a path given twice, or of
        // an entry below a symlink it has just made, depends on the order and
        // on what the disk already holds; a layer must not leave that open.
        if (auto twice = kept.find(*stripped); twice != kept.end()) {
          return refuse(source.path, "given twice in the archive");
        }
        if (source.type != archive::EntryType::Directory && parents.count(*stripped) != 0) {
          return refuse(source.path, "not a directory, but earlier entries are inside it");
        }
        for (size_t slash = stripped->find('/'); slash != std::string::npos;
             slash = stripped->find('/', slash + 1)) {
          std::string parent = stripped->substr(0, slash);
          auto above = kept.find(parent);
          if (above != kept.end() && above->second != archive::EntryType::Directory) {
            return refuse(source.path,
                          "inside " + parent + ", " + name(above->second) + " of the archive");
          }
          parents.insert(std::move(parent));
        }
        archive::TarEntry entry = source;
        entry.path = prefix + *stripped;
        entry.uid = input.uid;
        entry.gid = input.gid;
        entry.uname.clear();
        entry.gname.clear();
        entry.mtime = std::min(entry.mtime, epoch);
        switch (entry.type) {
          case archive::EntryType::File:
            entry.mode = input.mode.value_or(entry.mode);
            break;
          case archive::EntryType::Directory:
            entry.mode = input.dir_mode.value_or(entry.mode);
            break;
          case archive::EntryType::Hardlink: {
            auto target = strip_components(source.link_target, input.strip);
            if (!target || kept.count(*target) == 0) {
              return refuse(source.path,
                            "hard link to " + source.link_target + ", which is not unpacked");
            }
            entry.link_target = prefix + *target;
            entry.mode = input.mode.value_or(entry.mode);
            break;
          }
          case archive::EntryType::Symlink:
            links[entry.path] = entry.link_target;
            link_sources.emplace_back(entry.path, source.path);
            break;
          default:
            break;  // devices and FIFOs were refused above
        }
        kept.emplace(*stripped, entry.type);
        return fn(entry, content);
      },
      label, /*zip=*/true));
  for (const auto& [path, source_path] : link_sources) {
    const std::string& target = links.at(path);
    if (!archive::link_stays_inside(links, path, target, input.dst)) {
      return refuse(source_path, "symlink to " + target + " points outside " + input.dst);
    }
  }
  return {};
}

std::string archive_record(const ArchiveInput& input) {
  nlohmann::json record = {{"url", input.url}, {"sha256", input.sha256.hex()}, {"dst", input.dst}};
  if (!input.name.empty()) {
    record["name"] = input.name;
  }
  if (!input.version.empty()) {
    record["version"] = input.version;
  }
  return record.dump(2) + "\n";
}

Status write_archive_layer(LayerWriter& layer, const ArchiveInput& input, int64_t epoch) {
  // Entries come out under dst as written; they go where dst is placed.
  const std::string& dst = input.placed_dst.empty() ? input.dst : input.placed_dst;
  const std::string written = input.dst == "/" ? "" : input.dst.substr(1) + "/";
  const std::string placed = dst == "/" ? "" : dst.substr(1) + "/";
  auto place = [&](std::string& path) {
    if (placed != written && path.compare(0, written.size(), written) == 0) {
      path = placed + path.substr(written.size());
    }
  };
  for (const auto& dir : input.dst_directories) {
    DISTILL_CHECK(layer.add(dir, std::string_view()));
  }
  if (!placed.empty()) {
    DISTILL_CHECK(layer.add_parents(placed + "x", epoch));
  }
  DISTILL_CHECK(for_each_archive_entry(
      input, epoch,
      [&](const archive::TarEntry& source, archive::ContentReader& content) -> Status {
        archive::TarEntry entry = source;
        place(entry.path);
        if (entry.type == archive::EntryType::Hardlink) {
          place(entry.link_target);
        }
        DISTILL_CHECK(layer.add_parents(entry.path, epoch));
        return layer.add(entry, entry.type == archive::EntryType::File ? &content : nullptr);
      }));
  std::string records(k_archive_records_dir);
  DISTILL_CHECK(layer.add_parents(records + "/x", epoch));
  return layer.add(
      make_file(records + "/" + input.sha256.hex() + ".json", archive_record(input), 0644, epoch));
}

Result<std::vector<ArchiveFile>> archive_elf_files(const ArchiveInput& input, int64_t epoch) {
  std::vector<ArchiveFile> out;
  DISTILL_CHECK(for_each_archive_entry(
      input, epoch, [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        ArchiveFile found;
        found.file.path = "/" + entry.path;
        if (entry.type == archive::EntryType::Symlink) {
          found.file.symlink = true;
          found.file.target = entry.link_target;
          out.push_back(std::move(found));
          return {};
        }
        if (entry.type != archive::EntryType::File || entry.size < 4) {
          return {};
        }
        std::string head(4, '\0');
        size_t got = 0;
        while (got < head.size()) {
          DISTILL_TRY(size_t n, content.read(head.data() + got, head.size() - got));
          if (n == 0) {
            break;
          }
          got += n;
        }
        if (got < head.size() || !elf::looks_like_elf(head)) {
          return {};
        }
        DISTILL_TRY(auto rest, content.read_all());
        auto info = elf::parse_elf(head + rest, input.label() + ": " + entry.path);
        if (!info.ok()) {
          return {};  // not a file a program loads; nothing to trace through it
        }
        found.file.elf = true;
        found.file.soname = info->soname;
        found.file.needed = info->needed;
        found.interpreter = info->interpreter;
        out.push_back(std::move(found));
        return {};
      }));
  return out;
}

}  // namespace distill::image
