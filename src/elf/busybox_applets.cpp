// busybox applet table scanner: see busybox_applets.hpp. One pass over the
// bytes; each candidate name is compared with the previous one only.
#include "elf/busybox_applets.hpp"

namespace distill::elf {

namespace {

constexpr size_t k_max_name = 32;

bool is_name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '[' || c == ']';
}

// A run of sorted names: where its names are in the data.
struct Run {
  std::vector<std::string_view> names;
};

}  // namespace

Result<std::vector<std::string>> busybox_applets(std::string_view data, const std::string& origin) {
  Run best;
  Run current;
  auto finish = [&]() {
    if (current.names.size() > best.names.size()) {
      best = std::move(current);
    }
    current.names.clear();
  };
  size_t i = 0;
  const size_t n = data.size();
  while (i < n) {
    size_t j = i;
    while (j < n && j - i <= k_max_name && is_name_byte(data[j])) {
      ++j;
    }
    const size_t length = j - i;
    if (j < n && data[j] == '\0' && length > 0 && length <= k_max_name) {
      std::string_view name = data.substr(i, length);
      if (!current.names.empty() && !(current.names.back() < name)) {
        finish();
      }
      current.names.push_back(name);
      i = j + 1;
      continue;
    }
    // Not a name: the run (if any) ends here. Scanning resumes after the bad
    // byte, or after the whole of a word too long to be a name.
    finish();
    while (j < n && is_name_byte(data[j])) {
      ++j;
    }
    i = j == i ? j + 1 : j;
  }
  finish();
  if (best.names.size() < k_min_busybox_applets) {
    return make_error(ErrorKind::Corrupt, origin + ": no busybox applet table (no run of " +
                                              std::to_string(k_min_busybox_applets) +
                                              " sorted applet names)");
  }
  return std::vector<std::string>(best.names.begin(), best.names.end());
}

}  // namespace distill::elf
