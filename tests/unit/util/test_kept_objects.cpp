// KeptObjects tests (kept_objects.hpp): the newest fitting object comes out
// first, or the cheapest, at most `cap` are kept, release() drops them all, and threads taking
// and giving at once never get the same object.
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "util/kept_objects.hpp"

namespace distill::util {
namespace {

TEST(KeptObjects, NewestFittingFirstAtMostCap) {
  KeptObjects<int> kept(3);
  EXPECT_FALSE(kept.take().has_value());
  for (int i = 1; i <= 4; ++i) {
    kept.give(i);  // 4 is one too many: dropped
  }
  EXPECT_EQ(kept.take([](int v) { return v % 2 == 1; }), 3);
  EXPECT_FALSE(kept.take([](int v) { return v > 3; }).has_value());
  EXPECT_EQ(kept.take(), 2);
  EXPECT_EQ(kept.take(), 1);
  EXPECT_FALSE(kept.take().has_value());
}

TEST(KeptObjects, TheCheapestComesOutTheNewestOfEquals) {
  KeptObjects<std::pair<int, char>> kept(8);
  EXPECT_FALSE(kept.take_cheapest([](const auto&) { return 0; }).has_value());
  kept.give({8, 'a'});
  kept.give({2, 'b'});
  kept.give({5, 'c'});
  kept.give({2, 'd'});
  // Distance from 4 as a decoder's dictionary is chosen: 5, then the two 2s
  // (the one given back last first), then 8.
  auto from4 = [](const std::pair<int, char>& v) {
    return v.first >= 4 ? v.first - 4 : 100 - v.first;
  };
  EXPECT_EQ(kept.take_cheapest(from4)->second, 'c');
  EXPECT_EQ(kept.take_cheapest(from4)->second, 'a');
  EXPECT_EQ(kept.take_cheapest(from4)->second, 'd');
  EXPECT_EQ(kept.take_cheapest(from4)->second, 'b');
  EXPECT_FALSE(kept.take_cheapest(from4).has_value());
}

TEST(KeptObjects, ReleaseDropsEveryKeptObject) {
  KeptObjects<std::shared_ptr<int>> kept(4);
  auto a = std::make_shared<int>(1);
  kept.give(a);
  kept.give(std::make_shared<int>(2));
  EXPECT_EQ(a.use_count(), 2);
  kept.release();
  EXPECT_EQ(a.use_count(), 1);
  EXPECT_FALSE(kept.take().has_value());
  kept.give(a);  // usable again
  EXPECT_EQ(kept.take(), a);
}

TEST(KeptObjects, ThreadsNeverHoldTheSameObject) {
  // No more objects exist than threads, so none is ever dropped: every
  // increment is still counted at the end (TSan sees two threads writing one).
  constexpr int k_threads = 4;
  constexpr int k_rounds = 2000;
  KeptObjects<std::unique_ptr<int>> kept(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < k_rounds; ++round) {
        auto object = kept.take().value_or(std::make_unique<int>(0));
        ++*object;
        kept.give(std::move(object));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  int total = 0;
  int objects = 0;
  while (auto object = kept.take()) {
    total += **object;
    ++objects;
  }
  EXPECT_LE(objects, k_threads);
  EXPECT_EQ(total, k_threads * k_rounds);
}

}  // namespace
}  // namespace distill::util
