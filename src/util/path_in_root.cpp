// See path_in_root.hpp.
#include "util/path_in_root.hpp"

#include <sys/stat.h>

#include <deque>

#include "util/text.hpp"

namespace distill::util {

namespace {

constexpr int k_max_links = 40;

}  // namespace

std::optional<std::vector<std::string>> resolve_in_root(
    std::string_view path,
    const std::function<std::optional<std::string>(const std::string&)>& link_at,
    bool follow_last) {
  auto first = split_nonempty(path, '/');
  std::deque<std::string> pending(first.begin(), first.end());
  std::vector<std::string> done;
  int links = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") {
      continue;
    }
    if (part == "..") {
      if (!done.empty()) {
        done.pop_back();
      }
      continue;
    }
    done.push_back(std::move(part));
    if (pending.empty() && !follow_last) {
      break;
    }
    std::optional<std::string> target = link_at(join(done, "/"));
    if (!target) {
      continue;
    }
    if (++links > k_max_links) {
      return std::nullopt;
    }
    done.pop_back();
    if (!target->empty() && (*target)[0] == '/') {
      done.clear();
    }
    auto parts = split_nonempty(*target, '/');
    pending.insert(pending.begin(), parts.begin(), parts.end());
  }
  return done;
}

std::optional<std::vector<std::string>> resolve_in_directory(const std::filesystem::path& root,
                                                             std::string_view path) {
  return resolve_in_root(path, [&root](const std::string& prefix) {
    const std::filesystem::path host = root / prefix;
    struct stat st {};
    std::optional<std::string> target;
    if (::lstat(host.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      std::error_code ec;
      std::filesystem::path read = std::filesystem::read_symlink(host, ec);
      if (!ec) {
        target = read.string();
      }
    }
    return target;
  });
}

}  // namespace distill::util
