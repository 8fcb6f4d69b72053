// Unpacking an image's layers into a root filesystem, with OCI layer semantics
// (https://github.com/opencontainers/image-spec/blob/main/layer.md): entries of a
// later layer replace earlier ones (a file may replace a directory and vice
// versa), `.wh.NAME` deletes NAME from lower layers, `.wh..wh..opq` hides all lower
// content of its directory; ownership, modes (setuid/setgid/sticky included) and
// mtimes are applied, modes after content and directories' at the end of a layer.
//
// Nothing is ever written outside the rootfs, whatever the layers' symlinks say:
// paths are resolved inside it with RootDir (openat2 RESOLVE_IN_ROOT, or an
// O_NOFOLLOW walk) and the final component of an entry is never followed. Device
// nodes are created only when running as root.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace distill::runtime {

struct UnpackOptions {
  bool allow_openat2 = true;  // false: always use the portable walk (tests)
  // The image config's diff_ids, one per layer: each layer's uncompressed tar
  // is checked against its own as it is unpacked (in the same pass), and a
  // difference is Corrupt once the layer is read. Empty: not checked.
  std::vector<crypto::Digest> diff_ids;
  // Names the image in errors ("layer 2 of IMAGE: ..."); empty: the layer's file.
  std::string image;
};

// Applies `layer_blobs` (gzip, zstd, xz or plain tars), in order, onto `rootfs`
// (an existing, normally empty, directory). Errors name the layer and entry.
Status unpack_layers(const std::vector<std::filesystem::path>& layer_blobs,
                     const std::filesystem::path& rootfs, const UnpackOptions& options = {});

}  // namespace distill::runtime
