// Two or three real examples per command, in one place: they end each
// command's --help and fill the EXAMPLES section of its manual page.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace distill::cli {

struct HelpExample {
  std::string what;     // one line saying what it does
  std::string command;  // the command line, as typed
};

// The examples of `distill <command>` ("" = the top level); empty if none.
const std::vector<HelpExample>& help_examples(std::string_view command);

// The --help footer: "Examples:" then each example's comment and command.
std::string examples_footer(std::string_view command);

}  // namespace distill::cli
