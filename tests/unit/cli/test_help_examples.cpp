// Every command's --help ends with examples, and every example is a command line
// the real parser accepts.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/command_table.hpp"
#include "cli/help_examples.hpp"
#include "cli/option_values.hpp"

namespace distill::cli {
namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  std::string word;
  while (in >> word) {
    words.push_back(word);
  }
  return words;
}

TEST(HelpExamplesTest, EveryVisibleCommandHasTwoOrThreeExamplesInItsHelp) {
  CommandTable table = make_command_table();
  for (const CLI::App* sub : visible_subcommands(*table.app)) {
    const auto& examples = help_examples(sub->get_name());
    EXPECT_GE(examples.size(), 2U) << sub->get_name();
    EXPECT_LE(examples.size(), 3U) << sub->get_name();
    std::string help = sub->help();
    EXPECT_NE(help.find("Examples:"), std::string::npos) << sub->get_name();
    for (const auto& example : examples) {
      EXPECT_NE(help.find(example.command), std::string::npos) << example.command;
    }
  }
  EXPECT_NE(table.app->help().find("distill build cc"), std::string::npos);
}

TEST(HelpExamplesTest, EveryExampleParses) {
  std::vector<std::string> commands{""};
  {
    CommandTable table = make_command_table();
    for (const CLI::App* sub : visible_subcommands(*table.app)) {
      commands.push_back(sub->get_name());
    }
  }
  size_t parsed = 0;
  for (const auto& command : commands) {
    for (const auto& example : help_examples(command)) {
      // The command, without a shell redirection of its output.
      std::vector<std::string> words =
          split_words(example.command.substr(0, example.command.find(" > ")));
      if (words.empty() || words[0] != "distill") {
        continue;  // "source <(distill completion bash)"
      }
      words.erase(words.begin());
      std::vector<std::string> reversed(words.rbegin(), words.rend());         // CLI11's order
      CommandTable table = make_command_table(words.empty() ? "" : words[0]);  // as main() does
      EXPECT_NO_THROW(table.app->parse(reversed)) << example.command;
      ++parsed;
    }
  }
  EXPECT_GE(parsed, 20U);
}

TEST(HelpExamplesTest, UnknownCommandHasNoFooter) {
  EXPECT_TRUE(help_examples("no-such-command").empty());
  EXPECT_EQ(examples_footer("no-such-command"), "");
  EXPECT_EQ(examples_footer("lock").rfind("Examples:\n  # ", 0), 0U);
}

}  // namespace
}  // namespace distill::cli
