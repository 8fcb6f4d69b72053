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

#include <cstdint>
#include <vector>

#include "image/env.hpp"
#include "image/plan.hpp"
#include "oci/image.hpp"

namespace distill::image {

// One image per plan.images entry, in the same order.
Result<std::vector<oci::Image>> execute(const BuildPlan& plan, const BuildRequest& request,
                                        BuildEnv& env);

// How many threads compress a layer whose work is `work` (the bytes of its
// .debs or archive; 0 when not known before it runs, as an application's
// files) in a build whose layers to make have `total` in all and `most` for
// the largest, on `cores` cores (-j). The largest layer (java17's JDK,
// python3's and nodejs's grouped layers) bounds the build: it starts first and
// must be able to use every core once the others are done, so it gets one
// thread per core, as does a layer with at least a core's share of the work or
// with unknown work. Every other layer gets one: such layers run beside each
// other and beside the largest, which keeps the cores busy with fewer threads
// taking turns on them (two per layer had base's warm build take 2.5% longer
// and python3's 3.5%, with more CPU; java17's and nodejs's the same).
unsigned compressing_threads(uint64_t work, uint64_t most, uint64_t total, unsigned cores);

}  // namespace distill::image
