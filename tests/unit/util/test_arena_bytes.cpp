// ArenaBytes tests (arena_bytes.hpp): appends keep their order across growth,
// prepare() gives room without the old bytes, clear() keeps the room, and a
// moved-from buffer is empty with no room.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "util/arena_bytes.hpp"

namespace distill::util {
namespace {

std::string text_of(const ArenaBytes& buffer) {
  return {reinterpret_cast<const char*>(buffer.data()), buffer.size()};
}

TEST(ArenaBytes, AppendsInOrderAndGrowsKeepingWhatIsThere) {
  ArenaBytes buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.capacity(), 0U);
  buffer.append("", 0);  // nothing to add: no room taken
  EXPECT_EQ(buffer.capacity(), 0U);
  std::string expected;
  for (int i = 0; i < 3000; ++i) {
    const std::string piece = std::to_string(i) + (i % 7 == 0 ? std::string(40000, 'x') : ",");
    buffer.append(piece.data(), piece.size());
    expected += piece;
  }
  EXPECT_EQ(buffer.size(), expected.size());
  EXPECT_GE(buffer.capacity(), buffer.size());
  EXPECT_EQ(text_of(buffer), expected);
  EXPECT_EQ(buffer.bytes().size(), expected.size());

  const size_t room = buffer.capacity();
  buffer.reserve(room + 1);  // growing by reserve() keeps the bytes too
  EXPECT_GE(buffer.capacity(), room + 1);
  EXPECT_EQ(text_of(buffer), expected);
  buffer.reserve(1);  // never shrinks
  EXPECT_EQ(text_of(buffer), expected);
}

TEST(ArenaBytes, PrepareGivesRoomToWriteWholeAndClearKeepsIt) {
  ArenaBytes buffer;
  buffer.append("old", 3);
  unsigned char* out = buffer.prepare(size_t{1} << 20);
  EXPECT_TRUE(buffer.empty());
  EXPECT_GE(buffer.capacity(), size_t{1} << 20);
  std::memset(out, 'n', size_t{1} << 20);  // all of it is writable
  buffer.set_size(5);
  EXPECT_EQ(text_of(buffer), "nnnnn");
  buffer.set_size(buffer.capacity() + 10);  // never past the room
  EXPECT_EQ(buffer.size(), buffer.capacity());
  const size_t room = buffer.capacity();
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.capacity(), room);
  buffer.append("again", 5);
  EXPECT_EQ(text_of(buffer), "again");
  EXPECT_EQ(buffer.capacity(), room);  // fits: nothing reallocated
}

TEST(ArenaBytes, AMovedFromBufferIsEmptyWithNoRoom) {
  ArenaBytes a;
  a.append("payload", 7);
  ArenaBytes b(std::move(a));
  EXPECT_EQ(text_of(b), "payload");
  EXPECT_EQ(a.size(), 0U);      // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  EXPECT_EQ(a.capacity(), 0U);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  a.append("re", 2);            // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  EXPECT_EQ(text_of(a), "re");
  ArenaBytes c;
  c.append("c", 1);
  c = std::move(b);
  EXPECT_EQ(text_of(c), "payload");
  EXPECT_EQ(b.capacity(), 0U);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  EXPECT_TRUE(b.empty());       // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
}

}  // namespace
}  // namespace distill::util
