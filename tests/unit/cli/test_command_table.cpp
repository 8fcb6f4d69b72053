// The command table main() makes: every command, or the one argv[1] names alone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/command_table.hpp"

namespace distill::cli {
namespace {

std::vector<std::string> names_of(const CommandTable& table) {
  std::vector<std::string> names;
  for (const CLI::App* sub : table.app->get_subcommands({})) {
    names.push_back(sub->get_name());
  }
  return names;
}

std::vector<std::string> every_name() {
  std::vector<std::string> names;
  for (auto name : command_names()) {
    names.emplace_back(name);
  }
  return names;
}

TEST(CommandTableTest, EveryNameIsTheNameItsRegistrarGives) {
  CommandTable table = make_command_table();
  EXPECT_EQ(names_of(table), every_name());
  EXPECT_EQ(table.runners.size(), command_names().size());
}

TEST(CommandTableTest, ACommandNamedFirstIsRegisteredAloneWithItsRunnerAndStatus) {
  CommandTable all = make_command_table();
  for (auto name : command_names()) {
    CommandTable alone = make_command_table(name);
    if (name == "completion" || name == "__man") {  // they walk every command
      EXPECT_EQ(names_of(alone), every_name()) << name;
      continue;
    }
    ASSERT_EQ(names_of(alone), std::vector<std::string>{std::string(name)});
    const CLI::App* sub = alone.app->get_subcommands({}).front();
    EXPECT_EQ(alone.runners.count(sub), 1U) << name;
    EXPECT_NE(sub->help().find("Examples:"), std::string::npos) << name;
    const CLI::App* full_sub = all.app->get_subcommand(std::string(name));
    auto status = [](const CommandTable& table, const CLI::App* app) {
      auto found = table.error_status.find(app);
      return found == table.error_status.end() ? k_exit_failure : found->second;
    };
    EXPECT_EQ(status(alone, sub), status(all, full_sub)) << name;
  }
  EXPECT_EQ(make_command_table("diff").error_status.size(), 1U);
}

TEST(CommandTableTest, AnythingElseGivesEveryCommand) {
  for (const char* first : {"", "--help", "--version", "biuld", "Build", "-o"}) {
    EXPECT_EQ(names_of(make_command_table(first)), every_name()) << first;
  }
  EXPECT_NE(make_command_table("--help").app->help().find("Examples:"), std::string::npos);
}

TEST(CommandTableTest, ACommandAloneStillRejectsWhatItDoesNotKnow) {
  CommandTable table = make_command_table("build");
  std::vector<std::string> args{"--no-such-flag", "base"};  // CLI11's reversed order
  EXPECT_THROW(table.app->parse(args), CLI::ParseError);
}

}  // namespace
}  // namespace distill::cli
