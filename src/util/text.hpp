// Small text helpers shared by every layer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distill::util {

// The items with `separator` between them.
std::string join(const std::vector<std::string>& items, std::string_view separator = " ");

// The lines of `text`, without their '\n'; a final newline ends the last line
// (it does not start an empty one). Empty lines in between are kept.
std::vector<std::string> split_lines(std::string_view text);

// The non-empty pieces of `text` between `separator`s: "/a//b/" -> {"a", "b"}.
std::vector<std::string> split_nonempty(std::string_view text, char separator);

// A size for people: "512 B", "4.0 KiB", "12.3 MiB", "1.50 GiB".
std::string human_size(uint64_t bytes);

}  // namespace distill::util
