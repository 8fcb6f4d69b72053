#include "image/files_layer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "archive/entry_containment.hpp"
#include "crypto/sha256.hpp"
#include "elf/elf_reader.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::image {

namespace {

std::string strip_root(const std::string& dst) {
  size_t start = dst.find_first_not_of('/');
  return start == std::string::npos ? std::string() : dst.substr(start);
}

// Adds one host path (file, symlink or directory, recursively) at `dst`;
// `origin` gets `where` for every path it adds.
Status add_host_path(const std::filesystem::path& src, const std::string& dst,
                     const SpecFile& spec_file, bool top, int64_t epoch,
                     std::map<std::string, GeneratedEntry>& out,
                     std::map<std::string, std::string>& origin, const std::string& where) {
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) {
    return util::errno_error(src, errno).context(where);
  }
  // The spec's mode applies to what it names, not to the files below a directory.
  auto mode_for = [&](uint32_t fallback) {
    return top && spec_file.mode ? *spec_file.mode : fallback;
  };
  GeneratedEntry g;
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(src, ec);
    if (ec) {
      return util::errno_error(src, ec.value()).context(where);
    }
    g = make_symlink(dst, target.string(), epoch);
  } else if (S_ISDIR(st.st_mode)) {
    if (!dst.empty()) {
      g = make_directory(dst, mode_for(st.st_mode & 07777), epoch, spec_file.uid, spec_file.gid);
      out[dst] = g;
      origin[dst] = where;
    }
    std::vector<std::filesystem::path> children;
    std::error_code ec;
    for (const auto& child : std::filesystem::directory_iterator(src, ec)) {
      children.push_back(child.path());
    }
    if (ec) {
      return util::errno_error(src, ec.value()).context(where);
    }
    std::sort(children.begin(), children.end());
    for (const auto& child : children) {
      if (auto bad = archive::layer_path_problem(child.filename().string()); !bad.empty()) {
        return make_error(ErrorKind::InvalidInput, where + ": " + child.string() + ": " + bad);
      }
      std::string child_dst =
          dst.empty() ? child.filename().string() : dst + "/" + child.filename().string();
      DISTILL_CHECK(add_host_path(child, child_dst, spec_file, false, epoch, out, origin, where));
    }
    return {};
  } else if (S_ISREG(st.st_mode)) {
    g = make_file(dst, "", mode_for(st.st_mode & 07777), epoch, spec_file.uid, spec_file.gid);
    g.entry.size = static_cast<uint64_t>(st.st_size);
    g.source = src;
  } else {
    return make_error(ErrorKind::InvalidInput,
                      where + ": " + src.string() + ": not a regular file, directory or symlink");
  }
  g.entry.uid = spec_file.uid;
  g.entry.gid = spec_file.gid;
  out[dst] = std::move(g);
  origin[dst] = where;
  return {};
}

// An entry inside a file or symlink of the same layer: no unpacker can make
// the first (mkdir over a file), the second writes through its own link.
Status check_parents_are_directories(const std::map<std::string, GeneratedEntry>& entries,
                                     const std::map<std::string, std::string>& origin) {
  for (const auto& [path, g] : entries) {
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      auto parent = entries.find(path.substr(0, slash));
      if (parent == entries.end()) {
        continue;
      }
      if (parent->second.entry.type != archive::EntryType::Directory) {
        const char* what =
            parent->second.entry.type == archive::EntryType::Symlink ? "a symlink" : "a file";
        return make_error(ErrorKind::InvalidInput, origin.at(path) + ": /" + path + " is inside /" +
                                                       parent->first + ", which " +
                                                       origin.at(parent->first) + " makes " + what);
      }
      break;  // that directory's own parents are checked as its path
    }
  }
  return {};
}

}  // namespace

Result<std::vector<GeneratedEntry>> expand_spec_files(const Spec& spec, int64_t epoch) {
  std::map<std::string, GeneratedEntry> entries;
  std::map<std::string, std::string> origin;  // path -> "SPEC:LINE" of the entry that wrote it
  for (const auto& file : spec.files) {
    std::string where = spec.display_name + ":" + std::to_string(file.line);
    std::string dst = strip_root(file.dst);
    switch (file.kind) {
      case SpecFile::Kind::File:
      case SpecFile::Kind::Directory:
        DISTILL_CHECK(add_host_path(file.src, dst, file, true, epoch, entries, origin, where));
        break;
      case SpecFile::Kind::Content:
        entries[dst] =
            make_file(dst, file.content, file.mode.value_or(0644), epoch, file.uid, file.gid);
        origin[dst] = where;
        break;
      case SpecFile::Kind::EmptyDirectory:
        entries[dst] = make_directory(dst, file.mode.value_or(0755), epoch, file.uid, file.gid);
        origin[dst] = where;
        break;
      case SpecFile::Kind::Symlink:
        entries[dst] = make_symlink(dst, file.symlink_target, epoch);
        origin[dst] = where;
        break;
    }
  }
  DISTILL_CHECK(check_parents_are_directories(entries, origin));
  std::vector<GeneratedEntry> out;
  out.reserve(entries.size());
  for (auto& [path, entry] : entries) {
    if (!path.empty()) {
      out.push_back(std::move(entry));
    }
  }
  complete_and_sort(out, epoch);
  return out;
}

Result<std::vector<ArchiveFile>> spec_elf_files(const Spec& spec, int64_t epoch) {
  DISTILL_TRY(auto entries, expand_spec_files(spec, epoch));
  std::vector<ArchiveFile> out;
  for (const auto& g : entries) {
    ArchiveFile found;
    found.file.path = "/" + g.entry.path;
    if (g.entry.type == archive::EntryType::Symlink) {
      found.file.symlink = true;
      found.file.target = g.entry.link_target;
      out.push_back(std::move(found));
      continue;
    }
    if (g.entry.type != archive::EntryType::File) {
      continue;
    }
    std::string data;
    std::string name = found.file.path;
    if (g.source.empty()) {
      data = g.content;
    } else {
      // Only the first bytes of a file that is not ELF are read.
      util::Fd fd(::open(g.source.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) {
        return util::errno_error(g.source, errno);
      }
      char head[4];
      ssize_t n = 0;
      do {
        n = ::read(fd.get(), head, sizeof head);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        return util::errno_error(g.source, errno);
      }
      if (n < static_cast<ssize_t>(sizeof head) ||
          !elf::looks_like_elf(std::string_view(head, sizeof head))) {
        continue;
      }
      DISTILL_TRY(data, util::read_file(g.source));
      name = g.source.string();
    }
    if (!elf::looks_like_elf(data)) {
      continue;
    }
    auto info = elf::parse_elf(data, name);
    if (!info.ok()) {
      continue;  // not a file a program loads; nothing to trace through it
    }
    found.file.elf = true;
    found.file.soname = info->soname;
    found.file.needed = info->needed;
    found.interpreter = info->interpreter;
    out.push_back(std::move(found));
  }
  return out;
}

Result<std::string> entries_fingerprint(const std::vector<GeneratedEntry>& entries) {
  crypto::Sha256 all;
  for (const auto& g : entries) {
    const auto& e = g.entry;
    std::string meta = e.path + '\0' + std::to_string(static_cast<int>(e.type)) + '\0' +
                       std::to_string(e.mode) + '\0' + std::to_string(e.uid) + '\0' +
                       std::to_string(e.gid) + '\0' + std::to_string(e.mtime) + '\0' +
                       e.link_target + '\0' + std::to_string(e.size) + '\0';
    all.update(meta);
    if (!g.source.empty()) {
      util::Fd fd(::open(g.source.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) {
        return util::errno_error(g.source, errno);
      }
      crypto::Sha256 content;
      char buffer[1 << 16];
      for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          return util::errno_error(g.source, errno);
        }
        if (n == 0) {
          break;
        }
        content.update(buffer, static_cast<size_t>(n));
      }
      all.update(content.finish().hex());
    } else {
      all.update(crypto::sha256(g.content).hex());
    }
  }
  return all.finish().hex();
}

}  // namespace distill::image
