// Helpers shared by the archive unit tests: scratch dirs and running tools.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::archive::testing {

inline util::TempDir scratch() {
  auto dir = util::TempDir::create("distill-archive-test-");
  EXPECT_TRUE(dir.ok());
  return std::move(dir).value();
}

// Runs argv (optionally with stdin), expecting exit 0; returns stdout.
inline std::string run_ok(const std::vector<std::string>& argv,
                          std::optional<std::string> input = std::nullopt,
                          const std::filesystem::path& cwd = {}) {
  auto result = util::run_command({.argv = argv, .stdin_data = std::move(input), .cwd = cwd});
  EXPECT_TRUE(result.ok());
  if (!result.ok()) {
    return {};
  }
  EXPECT_EQ(result->exit_code, 0) << argv[0] << ": " << result->stderr_data;
  return result->stdout_data;
}

inline bool have(const std::string& program) { return !util::find_program(program).empty(); }

}  // namespace distill::archive::testing
