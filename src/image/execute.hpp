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
#include <functional>
#include <vector>

#include "image/env.hpp"
#include "image/plan.hpp"
#include "oci/image.hpp"

namespace distill::image {

// Told of each layer made (not one the cache held), for each image that
// uses it (an index into plan.images), on the pool thread that made it.
using LayerMade = std::function<void(size_t image, const oci::LayerBlob& blob)>;

// One image per plan.images entry, in the same order. `made`, if set, is
// called once a layer is made and its dependents are under way: what it does
// (image/output_staging.hpp: copy the blob beside the outputs) is done before
// execute() returns.
Result<std::vector<oci::Image>> execute(const BuildPlan& plan, const BuildRequest& request,
                                        BuildEnv& env, const LayerMade& made = {});

// How wide a layer's compression is (archive/compressor.hpp): with more than
// one, up to twice that many of its 1 MiB chunks wait for the worker pool's
// threads to compress them while the layer's own thread goes on decoding;
// with one, the layer's thread compresses each chunk itself. `work` is the
// bytes of its .debs or archive (0 when not known before it runs, as an
// application's files), in a build whose layers to make have `total` in all
// and `most` for the largest, on `cores` cores (-j). The largest layer (java17's
// JDK, python3's and nodejs's grouped layers) bounds the build: its serial
// chain, the decoding, must not stop to compress while another thread could,
// so it gets `cores`, as does a layer with at least a core's share of the work
// or with unknown work. Every other layer gets one: such layers run beside
// each other and beside the largest, keeping the threads busy with their own
// chunks, and a ring of chunks for each took more fresh memory (a warm base
// build 3.6% slower; a ring of 16 for the largest layer alone, 4%).
unsigned compressing_threads(uint64_t work, uint64_t most, uint64_t total, unsigned cores);

}  // namespace distill::image
