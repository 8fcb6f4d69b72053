// program_build_id: the running program's NT_GNU_BUILD_ID, as readelf reads it
// from the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "util/build_id.hpp"
#include "util/subprocess.hpp"

namespace distill::util {
namespace {

TEST(BuildId, IsTheNoteReadelfReadsFromTheProgramFile) {
  const std::string& id = program_build_id();
  EXPECT_EQ(&id, &program_build_id());  // read once
  if (find_program("readelf").empty()) {
    GTEST_SKIP() << "no readelf";
  }
  // The file's path: in readelf, /proc/self/exe would be readelf.
  const std::string program = std::filesystem::read_symlink("/proc/self/exe").string();
  auto notes = run_command({{"readelf", "-n", program}});
  ASSERT_TRUE(notes.ok()) << notes.error().message;
  const std::string& text = notes->stdout_data;
  const std::string label = "Build ID: ";
  size_t at = text.find(label);
  if (at == std::string::npos) {
    EXPECT_EQ(id, "") << "readelf finds no build ID";
    return;
  }
  at += label.size();
  const std::string expected = text.substr(at, text.find_first_of(" \n", at) - at);
  EXPECT_EQ(id, expected);
  EXPECT_GE(id.size(), 16U);
}

}  // namespace
}  // namespace distill::util
