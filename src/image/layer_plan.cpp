#include "image/layer_plan.hpp"

#include <algorithm>
#include <numeric>

namespace distill::image {

std::vector<std::vector<size_t>> plan_layers(const std::vector<uint64_t>& sizes, size_t groups) {
  std::vector<std::vector<size_t>> plan;
  if (sizes.empty()) {
    return plan;
  }
  groups = std::max<size_t>(1, groups);
  if (sizes.size() <= groups) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      plan.push_back({i});
    }
    return plan;
  }
  // Greedy consecutive split: close a group when it reaches the average of what
  // is left over the groups left, keeping at least one item per later group.
  uint64_t remaining = std::accumulate(sizes.begin(), sizes.end(), uint64_t{0});
  size_t groups_left = groups;
  std::vector<size_t> current;
  uint64_t current_size = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    current.push_back(i);
    current_size += sizes[i];
    size_t items_left = sizes.size() - i - 1;
    uint64_t target = remaining / groups_left;
    bool must_close = items_left == groups_left - 1;
    if (groups_left > 1 && (current_size >= target || must_close)) {
      plan.push_back(std::move(current));
      current.clear();
      remaining -= current_size;
      current_size = 0;
      --groups_left;
    }
  }
  if (!current.empty()) {
    plan.push_back(std::move(current));
  }
  return plan;
}

}  // namespace distill::image
