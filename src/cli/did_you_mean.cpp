// unknown_name_error: see did_you_mean.hpp.
#include "cli/did_you_mean.hpp"

#include <algorithm>

#include "cli/option_values.hpp"
#include "util/nearest_word.hpp"

namespace distill::cli {

namespace {

std::string with_suggestion(const std::string& message, const std::string& suggestion) {
  return message + util::did_you_mean(suggestion);
}

// The first long option in `args` that `command` does not know, as
// "[command: ]unknown option '--x' (did you mean '--y'?)"; "" if none.
std::string unknown_option(const CLI::App& command, const std::string& command_name,
                           const std::vector<std::string>& args) {
  std::vector<std::string> known;
  for (const CLI::Option* option : command.get_options()) {
    for (const auto& name : option->get_lnames()) {
      known.push_back("--" + name);
    }
  }
  for (const auto& arg : args) {
    if (arg == "--") {
      break;  // what follows goes to the program
    }
    if (arg.rfind("--", 0) != 0) {
      continue;
    }
    std::string name = arg.substr(0, arg.find('='));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string prefix = command_name.empty() ? "" : command_name + ": ";
      return with_suggestion(prefix + "unknown option '" + name + "'",
                             util::nearest_word(name, known));
    }
  }
  return "";
}

}  // namespace

std::string unknown_name_error(const CLI::App& app, const std::vector<std::string>& args) {
  size_t i = 0;
  while (i < args.size() && args[i].rfind('-', 0) == 0 && args[i] != "--") {
    ++i;
  }
  std::vector<std::string> before(args.begin(), args.begin() + static_cast<long>(i));
  std::string top = unknown_option(app, "", before);
  if (!top.empty()) {
    return top;
  }
  if (i >= args.size() || args[i] == "--") {
    return "";
  }
  const std::string& word = args[i];
  std::vector<std::string> names;
  const CLI::App* command = nullptr;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name(word)) {
      command = sub;
    }
    if (!sub->get_group().empty()) {
      names.push_back(sub->get_name());
    }
  }
  if (command == nullptr) {
    return with_suggestion("unknown command '" + word + "'", util::nearest_word(word, names));
  }
  std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
  return unknown_option(*command, command->get_name(), rest);
}

}  // namespace distill::cli
