// LayerPlan: which packages go into which layer.
//
// Like distroless, every package gets a layer of its own (so images that share
// a base share its layers), until a flavor would pass k_max_layers; then
// packages, in name order, are packed into the layers that remain, balanced by
// .deb size. The plan depends only on the package list, never on timing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace distill::image {

inline constexpr size_t k_max_layers = 16;

// Splits items (sizes given, order kept) into at most `groups` consecutive
// groups of similar total size. Returns the groups as index lists.
std::vector<std::vector<size_t>> plan_layers(const std::vector<uint64_t>& sizes, size_t groups);

}  // namespace distill::image
