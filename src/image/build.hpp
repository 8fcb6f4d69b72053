// Building images: plan_build (plan.hpp) then execute (execute.hpp), then
// every requested output, for each image of the request. The CLI only turns
// flags into a BuildRequest and builds the environment (env.hpp).
//
// Every output is a pure function of (spec chain contents, resolved package
// set, source date epoch, compression), so the same inputs give the same
// digests on any machine, from any directory, with any -j, with a cold or
// warm cache. See ARCHITECTURE.md for the data flow.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "debian/lock_file.hpp"
#include "image/env.hpp"
#include "image/output_template.hpp"
#include "image/package_layer.hpp"
#include "image/plan.hpp"
#include "image/request.hpp"
#include "oci/image.hpp"
#include "oci/image_ref.hpp"
#include "util/result.hpp"

namespace distill::image {

struct BuildResult {
  std::string name;
  std::string tag;
  std::string spec;  // as requested
  Variant variant = Variant::Latest;
  std::string release;
  std::vector<std::string> archs;
  oci::Image image;
  std::map<std::string, std::vector<InstalledPackage>> packages;  // by arch, sorted by name
  debian::LockFile lock;  // what was resolved, as `distill lock` writes it
  std::vector<std::string> outputs_written;
};

// The result of a planned and executed image (its packages and lock moved out
// of `plan`); outputs not written yet.
BuildResult build_result(ImagePlan& plan, oci::Image image);

// Checks the request's outputs against its images before any work: every
// image needs its own output (placeholders), else a usage error.
Status check_outputs(const BuildRequest& request);

// What a build takes from its request alone, before it opens the cache or
// makes a request: the specs' chains, each image's output references and
// the layer cache references. Every usage error and every error of a spec
// file is found here, so a command that calls this first changes nothing
// on disk when its input is wrong.
struct PreparedBuild {
  std::vector<NamedChain> chains;
  std::vector<std::vector<std::string>> outputs;  // per image, in request order
  std::optional<oci::ImageRef> cache_from;
  std::optional<oci::ImageRef> cache_to;
};
Result<PreparedBuild> prepare_build(const BuildRequest& request);

// Plans, executes and writes every output of every image of the request.
Result<std::vector<BuildResult>> build_images(const BuildRequest& request,
                                              const PreparedBuild& prepared, BuildEnv& env);
// prepare_build, then the above.
Result<std::vector<BuildResult>> build_images(const BuildRequest& request, BuildEnv& env);

// The chain of the request's one image (a usage error when it names more),
// loaded before the cache is opened, as prepare_build does for a build.
Result<std::vector<NamedChain>> lock_chains(const BuildRequest& request);
// Resolves only (no layers) the request's one image and returns its lock.
Result<debian::LockFile> lock_image(const BuildRequest& request,
                                    const std::vector<NamedChain>& chains, BuildEnv& env);
// lock_chains, then the above.
Result<debian::LockFile> lock_image(const BuildRequest& request, BuildEnv& env);

}  // namespace distill::image
