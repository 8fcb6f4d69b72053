#include "archive/xz_allocator.hpp"

#include <cstdlib>

#include "util/page_arena.hpp"

namespace distill::archive::detail {

namespace {

void* allocate(void* /*opaque*/, size_t count, size_t size) {
  return util::arena_allocate(count * size);
}

void release(void* /*opaque*/, void* block) { util::arena_free(block); }

const lzma_allocator k_allocator{allocate, release, nullptr};

}  // namespace

const lzma_allocator* prefaulting_xz_allocator() { return &k_allocator; }

}  // namespace distill::archive::detail
