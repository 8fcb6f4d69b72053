// plan_layers: packages (in name order, with their .deb sizes) split into at most
// N consecutive layers of similar size. The plan decides layer digests, so it must
// depend on the sizes and the budget only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "image/layer_plan.hpp"

namespace distill::image {
namespace {

using Plan = std::vector<std::vector<size_t>>;

// Every index 0..n-1 exactly once, in order, no empty group.
void expect_consecutive_cover(const Plan& plan, size_t n) {
  size_t next = 0;
  for (const auto& group : plan) {
    EXPECT_FALSE(group.empty());
    for (size_t i : group) {
      EXPECT_EQ(i, next);
      ++next;
    }
  }
  EXPECT_EQ(next, n);
}

uint64_t group_size(const std::vector<size_t>& group, const std::vector<uint64_t>& sizes) {
  uint64_t total = 0;
  for (size_t i : group) {
    total += sizes[i];
  }
  return total;
}

TEST(LayerPlan, NoPackagesNoLayers) {
  EXPECT_TRUE(plan_layers({}, 16).empty());
  EXPECT_TRUE(plan_layers({}, 0).empty());
}

TEST(LayerPlan, OneLayerPerPackageWhileTheBudgetAllows) {
  // Like distroless: a layer per package, so images sharing a base share layers.
  EXPECT_EQ(plan_layers({5, 1000, 3}, 3), (Plan{{0}, {1}, {2}}));
  EXPECT_EQ(plan_layers({5, 1000, 3}, 16), (Plan{{0}, {1}, {2}}));
  EXPECT_EQ(plan_layers({42}, 1), (Plan{{0}}));
}

TEST(LayerPlan, BudgetOfOnePutsEverythingInOneLayer) {
  EXPECT_EQ(plan_layers({1, 2, 3, 4}, 1), (Plan{{0, 1, 2, 3}}));
}

TEST(LayerPlan, BudgetOfZeroIsTreatedAsOne) {
  // build.cpp passes at least 1, but a zero must not lose packages.
  EXPECT_EQ(plan_layers({1, 2, 3}, 0), (Plan{{0, 1, 2}}));
}

TEST(LayerPlan, EqualSizesSplitEvenly) {
  EXPECT_EQ(plan_layers({10, 10, 10, 10}, 2), (Plan{{0, 1}, {2, 3}}));
  EXPECT_EQ(plan_layers({7, 7, 7, 7, 7, 7}, 3), (Plan{{0, 1}, {2, 3}, {4, 5}}));
  std::vector<uint64_t> ones(32, 1);
  Plan plan = plan_layers(ones, 16);
  ASSERT_EQ(plan.size(), 16U);
  for (const auto& group : plan) {
    EXPECT_EQ(group.size(), 2U);
  }
}

TEST(LayerPlan, ABigPackageGetsALayerOfItsOwn) {
  // The first package alone reaches the average: it closes its own group.
  EXPECT_EQ(plan_layers({100, 1, 1, 1}, 2), (Plan{{0}, {1, 2, 3}}));
  // In the middle: the small ones before it are packed together.
  EXPECT_EQ(plan_layers({1, 1, 100, 1, 1}, 3), (Plan{{0, 1, 2}, {3}, {4}}));
}

TEST(LayerPlan, LaterGroupsKeepAtLeastOnePackage) {
  // The big package comes last: the small ones must be closed early enough
  // that every remaining group still gets a package.
  EXPECT_EQ(plan_layers({1, 1, 1, 100}, 2), (Plan{{0, 1, 2}, {3}}));
  EXPECT_EQ(plan_layers({1, 1, 1, 1, 100, 100}, 3), (Plan{{0, 1, 2, 3}, {4}, {5}}));
}

TEST(LayerPlan, ZeroSizesStillGiveTheFullNumberOfNonEmptyLayers) {
  std::vector<uint64_t> zeros(5, 0);
  Plan plan = plan_layers(zeros, 3);
  EXPECT_EQ(plan.size(), 3U);
  expect_consecutive_cover(plan, zeros.size());
  EXPECT_EQ(plan, (Plan{{0}, {1}, {2, 3, 4}}));

  // Zero-sized packages around real ones are not dropped.
  std::vector<uint64_t> mixed = {0, 50, 0, 0, 50, 0};
  Plan mixed_plan = plan_layers(mixed, 2);
  EXPECT_EQ(mixed_plan, (Plan{{0, 1}, {2, 3, 4, 5}}));
}

TEST(LayerPlan, ExactlyMinOfPackagesAndBudgetLayersCoveringAllInOrder) {
  std::mt19937_64 random(12345);  // fixed seed: the test is deterministic
  std::uniform_int_distribution<uint64_t> size(0, 50'000'000);
  std::uniform_int_distribution<size_t> count(1, 80);
  for (int round = 0; round < 200; ++round) {
    std::vector<uint64_t> sizes(count(random));
    for (auto& s : sizes) {
      s = size(random);
    }
    for (size_t budget : {size_t{1}, size_t{2}, size_t{5}, k_max_layers, size_t{100}}) {
      SCOPED_TRACE(::testing::Message()
                   << "round " << round << " n " << sizes.size() << " budget " << budget);
      Plan plan = plan_layers(sizes, budget);
      EXPECT_EQ(plan.size(), std::min(sizes.size(), budget));
      expect_consecutive_cover(plan, sizes.size());
      uint64_t total = 0;
      for (const auto& group : plan) {
        total += group_size(group, sizes);
      }
      EXPECT_EQ(total, std::accumulate(sizes.begin(), sizes.end(), uint64_t{0}));
    }
  }
}

TEST(LayerPlan, NoGroupExceedsTheAveragePlusOnePackage) {
  // The greedy split closes a group as soon as it reaches the average of what
  // is left, so a group is never bigger than that average plus its last package.
  std::mt19937_64 random(99);
  std::uniform_int_distribution<uint64_t> size(1, 1'000'000);
  for (int round = 0; round < 100; ++round) {
    std::vector<uint64_t> sizes(40);
    for (auto& s : sizes) {
      s = size(random);
    }
    uint64_t total = std::accumulate(sizes.begin(), sizes.end(), uint64_t{0});
    uint64_t biggest = *std::max_element(sizes.begin(), sizes.end());
    Plan plan = plan_layers(sizes, 8);
    ASSERT_EQ(plan.size(), 8U);
    uint64_t remaining = total;
    for (size_t k = 0; k + 1 < plan.size(); ++k) {
      uint64_t average = remaining / (plan.size() - k);
      uint64_t got = group_size(plan[k], sizes);
      EXPECT_LE(got, average + biggest) << "group " << k;
      EXPECT_GT(got, 0U);
      remaining -= got;
    }
  }
}

TEST(LayerPlan, SameInputSamePlan) {
  std::vector<uint64_t> sizes = {900, 12, 4000, 4000, 7, 0, 31, 2500, 18, 600, 1, 1, 77};
  Plan first = plan_layers(sizes, 4);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(plan_layers(sizes, 4), first);
  }
  EXPECT_EQ(first.size(), 4U);
  expect_consecutive_cover(first, sizes.size());
}

TEST(LayerPlan, OrderOfSizesMattersNotJustTheirSet) {
  // Groups are consecutive in the given (name) order: the plan is not a bin
  // packing that would reorder packages between layers.
  Plan a = plan_layers({100, 1, 1, 1}, 2);
  Plan b = plan_layers({1, 1, 1, 100}, 2);
  EXPECT_NE(a, b);
  expect_consecutive_cover(a, 4);
  expect_consecutive_cover(b, 4);
}

TEST(LayerPlan, TheLayerBudgetIsSixteen) {
  // Flavors are held to k_max_layers; more packages than that share layers.
  EXPECT_EQ(k_max_layers, 16U);
  std::vector<uint64_t> sizes(40, 1000);
  EXPECT_EQ(plan_layers(sizes, k_max_layers).size(), k_max_layers);
}

}  // namespace
}  // namespace distill::image
