// check_program: see program_check.hpp.
#include "runtime/program_check.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

#include "elf/elf_reader.hpp"
#include "util/fd.hpp"
#include "util/path_in_root.hpp"
#include "util/text.hpp"

namespace distill::runtime {

namespace {

constexpr int k_status_not_found = 127;
constexpr int k_status_cannot_execute = 126;
// What the kernel reads of a script's first line (BINPRM_BUF_SIZE).
constexpr size_t k_shebang_bytes = 256;

// A path looked up in the root: where it leads, or that it leads where the
// root does not tell (a file system the runtime mounts, or a link loop).
struct Found {
  bool knowable = true;
  bool exists = false;
  std::filesystem::path host;  // under the root
  struct stat st {};
};

Found look_up(const std::filesystem::path& rootfs, const std::string& path) {
  Found found;
  auto resolved = util::resolve_in_directory(rootfs, path);
  if (!resolved) {
    found.knowable = false;  // ELOOP: the runtime says so itself
    return found;
  }
  if (!resolved->empty() &&
      ((*resolved)[0] == "proc" || (*resolved)[0] == "dev" || (*resolved)[0] == "sys")) {
    found.knowable = false;
    return found;
  }
  found.host = rootfs;
  for (const auto& component : *resolved) {
    found.host /= component;
  }
  found.exists = ::lstat(found.host.c_str(), &found.st) == 0;
  return found;
}

bool executable_file(const Found& found) {
  return found.exists && !S_ISDIR(found.st.st_mode) && (found.st.st_mode & 0111) != 0;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

Error failure(const std::string& image, const std::string& program, const std::string& why,
              int status) {
  return Error{ErrorKind::NotFound, image + ": cannot run " + quoted(program) + ": " + why, status};
}

std::string mode_text(mode_t mode) {
  char text[8];
  (void)std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The ELF interpreter of the file `fd` (of `size` bytes), "" when it has none or
// cannot be read as ELF (the runtime then gives its own reason).
std::string elf_interpreter(int fd, size_t size, const std::string& origin) {
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (mapped == MAP_FAILED) {
    return {};
  }
  auto info = elf::parse_elf(std::string_view(static_cast<const char*>(mapped), size), origin);
  ::munmap(mapped, size);
  return info.ok() ? info->interpreter : std::string();
}

// The interpreter a script's #! line names, "" for none.
std::string shebang_interpreter(std::string_view head) {
  if (!head.starts_with("#!")) {
    return {};
  }
  std::string_view line = head.substr(2);
  line = line.substr(0, line.find('\n'));
  const size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    return {};
  }
  line.remove_prefix(start);
  return std::string(line.substr(0, line.find_first_of(" \t\r")));
}

// What the kernel needs besides the program itself, when the root lacks it.
std::optional<std::string> missing_interpreter(const std::filesystem::path& rootfs,
                                               const Found& program, const std::string& origin) {
  if (!S_ISREG(program.st.st_mode)) {
    return std::nullopt;
  }
  util::Fd fd(::open(program.host.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return std::nullopt;
  }
  std::string head(k_shebang_bytes, '\0');
  const ssize_t n = ::pread(fd.get(), head.data(), head.size(), 0);
  head.resize(n > 0 ? static_cast<size_t>(n) : 0);
  const bool is_elf = elf::looks_like_elf(head);
  const std::string interpreter =
      is_elf ? elf_interpreter(fd.get(), static_cast<size_t>(program.st.st_size), origin)
             : shebang_interpreter(head);
  if (interpreter.empty() || interpreter[0] != '/') {
    return std::nullopt;  // none, or one the kernel finds from the working directory
  }
  const Found found = look_up(rootfs, interpreter);
  if (!found.knowable || found.exists) {
    return std::nullopt;
  }
  return is_elf ? "its ELF interpreter " + interpreter +
                      " is not in the image (the program is linked dynamically, against a C "
                      "library the image does not have)"
                : "its interpreter " + interpreter + " (the script's #! line) is not in the image";
}

}  // namespace

Status check_program(const std::filesystem::path& rootfs, const RunOptions& options,
                     const std::string& image) {
  if (options.args.empty() || options.args[0].empty()) {
    return {};
  }
  const std::string& program = options.args[0];
  Found found;
  if (program.find('/') != std::string::npos) {
    const std::string path = program[0] == '/' ? program : options.cwd + "/" + program;
    found = look_up(rootfs, path);
    if (!found.knowable) {
      return {};
    }
    if (!found.exists) {
      return failure(image, program, "no such file in the image", k_status_not_found);
    }
    if (S_ISDIR(found.st.st_mode)) {
      return failure(image, program, "a directory", k_status_cannot_execute);
    }
    if (!S_ISREG(found.st.st_mode) || (found.st.st_mode & 0111) == 0) {
      return failure(image, program,
                     S_ISREG(found.st.st_mode)
                         ? "not executable (mode " + mode_text(found.st.st_mode) + ")"
                         : "not a regular file",
                     k_status_cannot_execute);
    }
  } else {
    std::string path_list = k_default_path;
    for (const auto& entry : options.env) {
      if (entry.starts_with("PATH=")) {
        path_list = entry.substr(5);
      }
    }
    // An empty or relative entry is looked up from the working directory:
    // left to the runtime.
    if (path_list.empty() || path_list.front() == ':' || path_list.back() == ':' ||
        path_list.find("::") != std::string::npos) {
      return {};
    }
    const std::vector<std::string> dirs = util::split_nonempty(path_list, ':');
    for (const auto& dir : dirs) {
      if (dir[0] != '/') {
        return {};
      }
    }
    for (const auto& dir : dirs) {
      std::string path = dir;
      path += '/';
      path += program;
      Found candidate = look_up(rootfs, path);
      if (!candidate.knowable) {
        return {};
      }
      if (executable_file(candidate)) {
        found = std::move(candidate);
        break;
      }
    }
    if (!found.exists) {
      return failure(image, program,
                     "no executable of that name in the image's PATH (" + path_list + ")",
                     k_status_not_found);
    }
  }
  if (auto missing = missing_interpreter(rootfs, found, program)) {
    return failure(image, program, *missing, k_status_not_found);
  }
  return {};
}

}  // namespace distill::runtime
