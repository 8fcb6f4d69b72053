// edit_distance and nearest_word: see nearest_word.hpp.
#include "util/nearest_word.hpp"

#include <algorithm>

namespace distill::util {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table: i-2, i-1 and i.
  std::vector<size_t> before(b.size() + 1);
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    previous[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

namespace {

template <class Strings>
std::string nearest_in(std::string_view word, const Strings& candidates) {
  const size_t limit = word.size() <= 4 ? 1 : word.size() / 3;
  std::string_view best;
  size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const std::string_view view(candidate);
    // The distance is at least the difference in length.
    const size_t apart =
        view.size() > word.size() ? view.size() - word.size() : word.size() - view.size();
    if (apart >= best_distance) {
      continue;
    }
    size_t distance = edit_distance(word, view);
    if (distance < best_distance && distance > 0) {
      best = view;
      best_distance = distance;
    }
  }
  return std::string(best);
}

}  // namespace

std::string nearest_word(std::string_view word, const std::vector<std::string>& candidates) {
  return nearest_in(word, candidates);
}

std::string nearest_name(std::string_view word, const std::vector<std::string_view>& candidates) {
  return nearest_in(word, candidates);
}

std::string did_you_mean(const std::string& suggestion) {
  return suggestion.empty() ? std::string() : " (did you mean '" + suggestion + "'?)";
}

}  // namespace distill::util
