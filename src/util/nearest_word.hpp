// "Did you mean ...?": the candidate nearest to a mistyped word (a subcommand, a
// flag, a spec key), by Damerau-Levenshtein distance (optimal string alignment:
// insertions, deletions, substitutions and swaps of two neighbours each cost 1),
// as git and cargo suggest commands.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace distill::util {

// The edit distance between `a` and `b`.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, or "" when none is near enough to be a typo:
// at most 1 edit for words of up to 4 characters, else at most a third of the
// word's length (so `entrypont` finds `entrypoint`, `--varient` `--variant`).
// A tie keeps the first candidate in the given order.
std::string nearest_word(std::string_view word, const std::vector<std::string>& candidates);
// The same over views (a package index's names, kept in its texts).
std::string nearest_name(std::string_view word, const std::vector<std::string_view>& candidates);

// " (did you mean 'SUGGESTION'?)" to append to an error message, or "" for no
// suggestion.
std::string did_you_mean(const std::string& suggestion);

}  // namespace distill::util
