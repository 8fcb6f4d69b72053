// The debug variants' busybox layer: Debian's busybox-static at
// /busybox/busybox, a link for each applet, and its status.d entry.
#pragma once

#include <cstdint>

#include "image/layer_writer.hpp"
#include "image/package_layer.hpp"
#include "util/result.hpp"

namespace distill::image {

// Writes the busybox layer of `package` (a downloaded busybox-static .deb).
Status write_busybox_layer(LayerWriter& writer, const InstalledPackage& package, int64_t epoch);

}  // namespace distill::image
