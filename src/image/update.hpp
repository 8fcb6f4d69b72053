// `distill update`: an image distill built, with its packages brought to the
// newest candidates of the same sources, as `distill build SPEC --refresh`
// would make it at that moment, without the spec.
//
// The image's provenance (provenance.hpp) gives back the spec chain's inputs;
// the spec's `files:` are read back from the image's own layers (and checked
// against the fingerprint the build recorded). The chain is then planned and
// executed like any build, with the Release files asked for again: package
// layers whose packages did not change are the same nodes (taken from the layer
// cache, or made again to the same bytes), the generated files (status.d,
// ld.so.cache, CA bundle, Java trust store) are made from the new package set,
// and the application layers come out byte for byte as they were. The image
// config's runtime settings and the manifest annotations are kept.
//
// With `only`, the other packages are pinned at the image's versions: the
// newest resolution is made, then every package outside `only` is set back
// to the image's version and sha256 and the chain is built from that lock
// (the image's .debs must be in the cache; their relationships are taken
// as the newest versions state them). Such an image is not what a
// `build --refresh` gives, by design.
//
// Refused, with a message that says why: an image without distill's
// provenance, one built `from:` an image reference, a record of another
// version. Repositories are verified as for a build (signatures, rollbacks).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "image/build.hpp"
#include "image/env.hpp"
#include "util/result.hpp"

namespace distill::image {

struct UpdateRequest {
  std::string image;                 // the reference to update
  std::vector<std::string> outputs;  // where the result goes (one image: no placeholder)
  std::filesystem::path lock_out;    // write the new lock here when set
  // Only these packages move; every other one stays at the version the image
  // has (its .deb must still be in the cache). Empty: every package.
  std::vector<std::string> only;
  // Keyring files for sources whose spec named one: matched to the record by
  // their sha256 (the record holds no path).
  std::vector<std::filesystem::path> keyrings;
  std::filesystem::path apt_root = "/";
  bool allow_release_rollback = false;
  unsigned jobs = 0;
  RegistrySettings registry;
};

struct PackageChange {
  std::string arch;
  std::string name;
  std::string from_version;  // "" when the package is new
  std::string to_version;    // "" when it is gone
};

struct UpdateResult {
  BuildResult build;
  std::vector<PackageChange> changes;  // by arch, then name
};

Result<UpdateResult> update_image(const UpdateRequest& request, BuildEnv& env);

}  // namespace distill::image
