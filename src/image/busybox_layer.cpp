// The busybox layer: see busybox_layer.hpp. The binary (about 2 MB) is read whole:
// its applet table and md5 both need every byte before the links and status.d
// entries can be written.
#include "image/busybox_layer.hpp"

#include <algorithm>

#include "archive/deb_reader.hpp"
#include "crypto/sha256.hpp"
#include "elf/busybox_applets.hpp"
#include "image/generated_files.hpp"

namespace distill::image {

std::string busybox_md5sums(std::string_view binary) {
  return crypto::md5_hex(binary) + "  " + std::string(k_busybox_path) + "\n";
}

Status write_busybox_layer(LayerWriter& writer, const InstalledPackage& package, int64_t epoch) {
  DISTILL_TRY(auto deb, open_deb(package));
  DISTILL_TRY(auto control, deb.read_control());
  std::string binary;
  archive::TarEntry binary_entry;
  bool found = false;
  // Debian 12 ships it as /bin/busybox, Debian 13 (merged /usr) as /usr/bin/busybox.
  DISTILL_CHECK(deb.for_each_data_entry(
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        if ((entry.path == "bin/busybox" || entry.path == "usr/bin/busybox") &&
            entry.type == archive::EntryType::File) {
          DISTILL_TRY(binary, content.read_all());
          binary_entry = entry;
          found = true;
        }
        return {};
      }));
  if (!found) {
    return make_error(ErrorKind::Corrupt,
                      package.name + ": no bin/busybox or usr/bin/busybox in the package");
  }
  const std::string origin = package.name + " " + package.version + ": " + binary_entry.path;
  DISTILL_TRY(std::vector<std::string> applets, elf::busybox_applets(binary, origin));
  if (!std::binary_search(applets.begin(), applets.end(), "sh")) {
    return make_error(ErrorKind::Corrupt, origin + ": the binary has no sh applet");
  }

  const std::string dir(k_busybox_dir);
  DISTILL_CHECK(writer.add(make_directory(dir, 0755, epoch)));
  archive::TarEntry out = binary_entry;
  out.path = std::string(k_busybox_path);
  out.uid = out.gid = 0;
  out.uname.clear();
  out.gname.clear();
  out.mode = 0755;
  out.size = binary.size();
  DISTILL_CHECK(writer.add(out, std::string_view(binary)));
  for (const auto& applet : applets) {
    if (applet != "busybox") {  // the binary itself
      DISTILL_CHECK(writer.add(make_symlink(dir + "/" + applet, "busybox", epoch)));
    }
  }

  std::string status_dir(k_status_dir);
  DISTILL_CHECK(writer.add_parents(status_dir + "/x", epoch));
  DISTILL_CHECK(
      writer.add(make_file(status_dir + "/" + package.name, control.control, 0644, epoch)));
  DISTILL_CHECK(writer.add(make_file(status_dir + "/" + package.name + ".md5sums",
                                     busybox_md5sums(binary), 0644, epoch)));
  return {};
}

}  // namespace distill::image
