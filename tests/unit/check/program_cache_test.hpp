// A fixture for the caches of the program's own output (SbomCache, ViewCache):
// keyed by the program's build ID, they keep nothing in a test binary without
// one, so their tests are skipped there. Each test gets an empty directory.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "util/build_id.hpp"
#include "util/temp_dir.hpp"

namespace distill::check::testing {

class ProgramCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (util::program_build_id().empty()) {
      GTEST_SKIP() << "this test program has no build ID: nothing is kept";
    }
    m_dir = std::make_unique<util::TempDir>(*util::TempDir::create());
  }
  std::unique_ptr<util::TempDir> m_dir;
};

}  // namespace distill::check::testing
