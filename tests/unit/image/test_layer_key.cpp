#include <gtest/gtest.h>

#include "image/layer_cache.hpp"

namespace distill::image {
namespace {

// The resolution cache once keyed on the second hex() of a key, which hashed
// nothing: every Release file gave the same key. hex() must be stable.
TEST(LayerKey, HexIsStableAcrossCalls) {
  LayerKey key("releases");
  key.add("url", "http://127.0.0.1/dists/bookworm/InRelease").add("body", "signed text");
  std::string first = key.hex();
  EXPECT_EQ(first.size(), 64U);
  EXPECT_EQ(key.hex(), first);
  EXPECT_EQ(key.hex(), first);
}

TEST(LayerKey, DependsOnEveryFieldAndValue) {
  auto make = [](std::string_view field, std::string_view value) {
    LayerKey key("releases");
    key.add(field, value);
    return key.hex();
  };
  EXPECT_EQ(make("body", "a"), make("body", "a"));
  EXPECT_NE(make("body", "a"), make("body", "b"));
  EXPECT_NE(make("body", "a"), make("bodz", "a"));
  // Length-prefixed: moving a byte from the field into the value is another key.
  EXPECT_NE(make("ab", "c"), make("a", "bc"));
  LayerKey empty("releases");
  EXPECT_NE(empty.hex(), make("body", ""));
}

TEST(LayerKey, KindIsPartOfTheKey) {
  LayerKey a("releases");
  LayerKey b("resolution");
  EXPECT_NE(a.hex(), b.hex());
}

}  // namespace
}  // namespace distill::image
