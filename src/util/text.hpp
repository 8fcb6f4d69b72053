// Small text helpers shared by every layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace distill::util {

// The items with `separator` between them.
std::string join(const std::vector<std::string>& items, std::string_view separator = " ");

// The lines of `text`, without their '\n'; a final newline ends the last line
// (it does not start an empty one). Empty lines in between are kept.
std::vector<std::string> split_lines(std::string_view text);

}  // namespace distill::util
