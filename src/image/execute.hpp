// The executor: turns a BuildPlan into images. Every layer node of every image
// and architecture that the layer cache does not already hold runs as one task
// on the environment's worker pool, as soon as what it needs is there: a
// package layer waits only for its own .debs (downloaded in the background,
// bases' first), a stage's top layer for its chain's package layers (whose
// pass over the .debs catalogs their libraries). There is no barrier between
// stages or images. The first failure, or Ctrl-C (util/interrupt.hpp), stops
// new tasks from starting; running ones finish and clean up after themselves,
// and the error names the image. Configs, manifests and indexes come last.
#pragma once

#include <vector>

#include "image/env.hpp"
#include "image/plan.hpp"
#include "oci/image.hpp"

namespace distill::image {

// One image per plan.images entry, in the same order.
Result<std::vector<oci::Image>> execute(const BuildPlan& plan, const BuildRequest& request,
                                        BuildEnv& env);

}  // namespace distill::image
