// The debug variants' busybox layer: Debian's busybox-static at
// /busybox/busybox, a link /busybox/<applet> -> busybox for every applet the
// binary provides (read from the binary's own applet table, see
// elf/busybox_applets.hpp, so any architecture's binary is read alike), and its
// status.d entry describing exactly the files of the layer: the package's control
// file as status.d/busybox-static, and status.d/busybox-static.md5sums with the one
// file it installs, under the path the image holds it (busybox/busybox; dpkg never
// lists symlinks in md5sums). Scanners find the package by that status.d entry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "image/layer_writer.hpp"
#include "image/package_layer.hpp"
#include "util/result.hpp"

namespace distill::image {

// Where the binary lies in the image (and in the md5sums), and its directory.
inline constexpr std::string_view k_busybox_dir = "busybox";
inline constexpr std::string_view k_busybox_path = "busybox/busybox";

// The layer's format for a given .deb: part of its layer-cache key, bumped when
// the same package gives a different layer (2: every applet, exact md5sums).
inline constexpr int64_t k_busybox_layer_format = 2;

// The md5sums text for a busybox whose content is `binary`: "<md5>  busybox/busybox\n".
std::string busybox_md5sums(std::string_view binary);

// Writes the busybox layer of `package` (a downloaded busybox-static .deb). An
// error names the package when it holds no bin/busybox, or when the binary has no
// applet table or no `sh` applet (the debug variants' entrypoint).
Status write_busybox_layer(LayerWriter& writer, const InstalledPackage& package, int64_t epoch);

}  // namespace distill::image
