// The Python the tests' helper scripts run under: Debian's /usr/bin/python3,
// which scripts/setup.sh installs, or else the first python3 on PATH. A
// version manager's shim earlier on PATH (pyenv's is a shell script that runs
// pyenv) took 0.4 s to start an interpreter here, against 0.05 s.
#pragma once

#include <unistd.h>

#include <filesystem>

#include "util/subprocess.hpp"

namespace distill::test {

inline std::filesystem::path system_python() {
  if (::access("/usr/bin/python3", X_OK) == 0) {
    return "/usr/bin/python3";
  }
  return util::find_program("python3");
}

}  // namespace distill::test
