#include "image/busybox_layer.hpp"

#include <algorithm>

#include "archive/deb_reader.hpp"
#include "image/generated_files.hpp"

namespace distill::image {

namespace {

// Applets linked in /busybox for the debug variants: what a shell session
// needs to look around. A fixed list keeps the layer identical on every arch.
constexpr const char* k_busybox_applets[] = {
    "[",        "[[",      "ash",      "awk",      "basename", "cat",  "chmod",     "chown",
    "cp",       "cut",     "date",     "dd",       "df",       "diff", "dirname",   "du",
    "echo",     "env",     "egrep",    "expr",     "false",    "find", "free",      "grep",
    "head",     "hexdump", "hostname", "id",       "ifconfig", "kill", "less",      "ln",
    "ls",       "md5sum",  "mkdir",    "more",     "mount",    "mv",   "nc",        "netstat",
    "nslookup", "od",      "ping",     "printenv", "printf",   "ps",   "pwd",       "readlink",
    "realpath", "rm",      "rmdir",    "sed",      "seq",      "sh",   "sha256sum", "sleep",
    "sort",     "stat",    "strings",  "tail",     "tar",      "tee",  "test",      "top",
    "touch",    "tr",      "true",     "uname",    "uniq",     "vi",   "wc",        "wget",
    "which",    "whoami",  "xargs",    "yes",
};

}  // namespace

Status write_busybox_layer(LayerWriter& writer, const InstalledPackage& package, int64_t epoch) {
  DISTILL_TRY(auto deb, archive::DebReader::open(package.deb_file, package.name));
  DISTILL_TRY(auto control, deb.read_control());
  DISTILL_CHECK(writer.add(make_directory("busybox", 0755, epoch)));
  bool found = false;
  DISTILL_CHECK(deb.for_each_data_entry(
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        if (entry.path == "bin/busybox" && entry.type == archive::EntryType::File) {
          archive::TarEntry out = entry;
          out.path = "busybox/busybox";
          out.uid = out.gid = 0;
          out.uname.clear();
          out.gname.clear();
          out.mode = 0755;
          found = true;
          return writer.add(out, &content);
        }
        return {};
      }));
  if (!found) {
    return make_error(ErrorKind::Corrupt, package.name + ": no bin/busybox in the package");
  }
  std::vector<std::string> applets(std::begin(k_busybox_applets), std::end(k_busybox_applets));
  std::sort(applets.begin(), applets.end());
  for (const auto& applet : applets) {
    DISTILL_CHECK(writer.add(make_symlink("busybox/" + applet, "busybox", epoch)));
  }
  std::string status_dir(k_status_dir);
  DISTILL_CHECK(writer.add_parents(status_dir + "/x", epoch));
  DISTILL_CHECK(
      writer.add(make_file(status_dir + "/" + package.name, control.control, 0644, epoch)));
  if (!control.md5sums.empty()) {
    DISTILL_CHECK(writer.add(
        make_file(status_dir + "/" + package.name + ".md5sums", control.md5sums, 0644, epoch)));
  }
  return {};
}

}  // namespace distill::image
