// argv/env composition: see process_args.hpp.
#include "runtime/process_args.hpp"

#include <cstdlib>

namespace distill::runtime {

std::vector<std::string> compute_args(
    const std::optional<std::vector<std::string>>& image_entrypoint,
    const std::optional<std::vector<std::string>>& image_cmd,
    const std::optional<std::vector<std::string>>& entrypoint_override,
    const std::vector<std::string>& extra_args) {
  std::vector<std::string> args;
  std::vector<std::string> cmd;
  if (entrypoint_override) {
    args = *entrypoint_override;
    cmd = extra_args;
  } else {
    args = image_entrypoint.value_or(std::vector<std::string>{});
    cmd = !extra_args.empty() ? extra_args : image_cmd.value_or(std::vector<std::string>{});
  }
  args.insert(args.end(), cmd.begin(), cmd.end());
  return args;
}

std::vector<std::string> merge_env(const std::vector<std::string>& image_env,
                                   const std::vector<std::string>& overrides) {
  std::vector<std::string> env = image_env;
  for (const auto& item : overrides) {
    std::string entry = item;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      const char* value = std::getenv(entry.c_str());
      if (value == nullptr) {
        continue;
      }
      eq = entry.size();
      entry += std::string("=") + value;
    }
    std::string prefix = entry.substr(0, eq + 1);
    bool replaced = false;
    for (auto& existing : env) {
      if (existing.rfind(prefix, 0) == 0) {
        existing = entry;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      env.push_back(entry);
    }
  }
  return env;
}

}  // namespace distill::runtime
